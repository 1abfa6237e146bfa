"""`monitor status`: heartbeats, leases held, and the outbox backlog."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.store.claims import claim
from monitor.store.models import Alert, Source, Story, Worker, utcnow
from monitor.store.workers import heartbeat, retire

runner = CliRunner()


def test_status_shows_live_and_dead_workers_their_sources_and_the_backlog(
    engine: Engine, db_url: str
) -> None:
    heartbeat(engine, "a:1:x")
    heartbeat(engine, "b:2:y")
    heartbeat(engine, "gone:3:z")
    retire(engine, "gone:3:z")
    with Session(engine) as session:
        stale = session.get(Worker, "b:2:y")
        assert stale is not None
        stale.last_seen = utcnow() - timedelta(minutes=5)
        session.add(stale)
        story = Story(title="s")
        session.add(story)
        session.add_all(Source(key=f"https://f.test/{n}", kind="feed", name="f") for n in range(3))
        session.flush()
        for n, state in enumerate(["pending", "pending", "pending", "sending", "sent", "failed"]):
            channel = "slack" if n == 0 else "console"
            session.add(Alert(story_id=story.id or 0, watchlist="w", rule=f"r{n}", channel=channel))
            session.flush()
            session.execute(update(Alert).where(col(Alert.rule) == f"r{n}").values(state=state))
        session.commit()
        feeds = select(Source).where(Source.kind == "feed")
        assert len(claim(session, feeds, "a:1:x", timedelta(minutes=5), limit=2)) == 2
    heartbeat(engine, "a:1:x")  # a second beat keeps the row, moves last_seen

    result = runner.invoke(app, ["status", "--json", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    workers = {w["id"]: w for w in report["workers"]}
    assert set(workers) == {"a:1:x", "b:2:y"}
    assert (workers["a:1:x"]["alive"], workers["a:1:x"]["sources"]) == (True, 2)
    assert (workers["b:2:y"]["alive"], workers["b:2:y"]["sources"]) == (False, 0)
    assert report["sources"] == {"total": 3, "held": 2}
    outbox = report["outbox"]
    assert (outbox["pending"], outbox["sending"], outbox["failed"]) == (3, 1, 1)
    assert outbox["pending_by_channel"] == {"console": 2, "slack": 1}
    assert outbox["oldest_pending_age_seconds"] >= 0

    text = runner.invoke(app, ["status", "--database-url", db_url]).output
    assert "alive" in text and "dead" in text and "outbox: 3 pending (console 2, slack 1)" in text
