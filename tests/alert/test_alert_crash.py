"""SIGKILL the deliverer at random points of a burst, while Slack and SMTP fail some requests.

The kills land where it hurts most: the servers kill the deliverer right after they stored a
message and before it could hear so, the window no API closes for us. After the restarts,
every alert and follow-up is delivered or failed with its reason; Slack holds every message
once; email holds at most one re-send per kill, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

from alert_servers import FakeSlack, Mailbox, write_channels
from sqlmodel import Session, select

from monitor.store.database import open_database
from monitor.store.models import Alert, AlertUpdate, Item, Source, Story

STORIES = 10
FOLLOWED = 3  # stories that get a second report: a Slack thread reply, an email follow-up
MAX_RUNS = 10


def burst(db: Path) -> None:
    """A burst of alerts, as the pipeline queues them, on both channels."""
    engine = open_database(f"sqlite:///{db}")
    with Session(engine) as session:
        source = Source(key="file:///burst", kind="file", name="burst")
        session.add(source)
        session.flush()
        assert source.id is not None
        for n in range(STORIES):
            story = Story(title=f"Story {n}", item_count=1)
            session.add(story)
            session.flush()
            assert story.id is not None
            items = []
            for k in range(2 if n < FOLLOWED else 1):
                item = Item(
                    source_id=source.id,
                    external_id=f"{n}-{k}",
                    content_hash=f"{n}-{k}",
                    url=f"https://news.example.org/{n}/{k}",
                    title=f"Report {k} of story {n}",
                    text="text",
                    language="en",
                    story_id=story.id,
                )
                session.add(item)
                items.append(item)
            session.flush()
            for channel in ("slack", "email"):
                alert = Alert(story_id=story.id, watchlist="w", rule="r", channel=channel)
                session.add(alert)
                session.flush()
                assert alert.id is not None
                for later in items[1:]:
                    assert later.id is not None
                    session.add(AlertUpdate(alert_id=alert.id, item_id=later.id))
        session.commit()
    engine.dispose()


async def test_sigkill_during_burst_loses_nothing_and_never_duplicates_slack(
    tmp_path: Path, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    box, port = mailbox
    db = tmp_path / "burst.db"
    burst(db)
    channels = write_channels(
        tmp_path / "channels.yaml",
        slack.url,
        port,
        lease_seconds=1.0,
        timeout=0.8,
        flood_limit=1000,
    )
    total = STORIES + FOLLOWED
    slack.faults.extend(rng.choice(["ok"] * 6 + ["500", "429:0", "lost"]) for _ in range(4 * total))
    box.faults.extend(rng.choice(["ok"] * 5 + ["451"]) for _ in range(4 * total))
    slack_kills = set(rng.sample(range(1, total), 2))
    email_kills = set(rng.sample(range(1, total), 1))
    process: asyncio.subprocess.Process | None = None
    kills = 0

    def kill_at(points: set[int]) -> object:
        def hook(count: int) -> None:
            nonlocal kills
            if count in points and process is not None and process.returncode is None:
                points.discard(count)
                kills += 1
                os.kill(process.pid, signal.SIGKILL)

        return hook

    slack.on_post = kill_at(slack_kills)  # type: ignore[assignment]
    box.on_data = kill_at(email_kills)  # type: ignore[assignment]
    command = [sys.executable, "-m", "monitor", "alerts", "deliver", "--until-done"]
    command += ["--database-url", f"sqlite:///{db}", "--channels", str(channels)]
    for _ in range(MAX_RUNS):
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        if process.returncode == 0:
            break
        assert process.returncode == -signal.SIGKILL, output.decode()
    else:
        raise AssertionError(f"still not done after {MAX_RUNS} runs (seed {seed})")

    engine = open_database(f"sqlite:///{db}")
    with Session(engine) as session:
        rows = [*session.exec(select(Alert)).all(), *session.exec(select(AlertUpdate)).all()]
        alerts = {a.id: a for a in session.exec(select(Alert)).all()}
    engine.dispose()
    context = f"seed {seed}, {kills} kills"
    assert kills >= 1, context
    for row in rows:
        assert row.state == "sent" or (row.state == "failed" and row.last_error), (row, context)

    # Slack: every message exactly once, replies in the right thread, ids recorded.
    keys = Counter(slack.key(m) for m in slack.messages)
    assert all(n == 1 for n in keys.values()), (keys.most_common(3), context)
    by_key = {slack.key(m): m for m in slack.messages}
    slack_alerts = [a for a in alerts.values() if a.channel == "slack" and a.state == "sent"]
    for alert in slack_alerts:
        assert alert.message_key is not None
        assert by_key[alert.message_key]["ts"] == alert.provider_id, context
    replies = [m for m in slack.messages if "thread_ts" in m]
    parents = {a.provider_id for a in slack_alerts}
    assert all(m["thread_ts"] in parents for m in replies), context
    assert len(slack.messages) == sum(
        1
        for r in rows
        if r.state == "sent" and alerts[getattr(r, "alert_id", r.id)].channel == "slack"
    ), context

    # Email: each Message-ID at least once; re-sends only after a kill, and the same message.
    ids = Counter(m["Message-ID"] for m in box.messages)
    email_alerts = [a for a in alerts.values() if a.channel == "email" and a.state == "sent"]
    for alert in email_alerts:
        assert ids[f"<{alert.message_key}@alerts.example.org>"] >= 1, context
    assert sum(n - 1 for n in ids.values()) <= kills, (ids.most_common(3), context)
