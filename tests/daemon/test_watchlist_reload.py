"""A watchlist edit while the daemon runs: a broken edit keeps the last good version alerting,
the fixed file takes over without a restart."""

from __future__ import annotations

from pathlib import Path

from daemon_support import Clock, Entry, FeedServer, settings_for_tests, source
from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.alert.channels.console import ConsoleChannel
from monitor.config import Settings, StorySettings
from monitor.daemon.service import Daemon
from monitor.pipeline import Pipeline
from monitor.store.models import Alert, Story
from monitor.watchlist.loader import load_watchlists

GOOD = "version: 1\nkeywords:\n  - name: {term}\n    terms: [{term}]\n"
BROKEN = "version: 1\nkeywords:\n  - name: coup\n    terms: [coup\n"


def alerted_titles(engine: Engine) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Story.title).join(Alert, col(Alert.story_id) == Story.id).order_by(col(Alert.id))
        ).all()
    return list(rows)


def rules_alerted(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Alert.rule).order_by(col(Alert.id))).all())


async def test_broken_edit_keeps_last_good_version_and_fix_applies_live(
    feed_server: FeedServer, engine: Engine, clock: Clock, tmp_path: Path
) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    watchlist = folder / "desk.yaml"
    watchlist.write_text(GOOD.format(term="coup"))
    settings = Settings(
        database_url=str(engine.url),
        watchlists=folder,
        daemon=settings_for_tests(),
        story=StorySettings(model="none"),
    )
    pipeline = Pipeline(engine, settings.story, load_watchlists(folder), None, True)
    console = ConsoleChannel(Console(quiet=True), tmp_path / "alerts.jsonl")
    url = feed_server.url("/feed")
    entries = [Entry("old", "Weather report for Monday")]
    async with Daemon(settings, engine, pipeline, console, clock=clock) as daemon:
        daemon.use_sources([source(url)])

        async def publish(guid: str, title: str) -> None:
            entries.append(Entry(guid, title, text=f"{title}, officials said on the radio."))
            feed_server.feed("/feed", list(entries))
            clock.advance(hours=2)
            await daemon.poll_due()

        await publish("first", "Quiet day")  # a new source's first poll never alerts
        watchlist.write_text(BROKEN)
        await daemon.reload_watchlists()
        assert daemon.watchlists.problems  # the breakage is exposed, not swallowed
        await publish("c1", "Coup attempt foiled in the capital")
        assert rules_alerted(engine) == ["any"]  # the last good version still alerts

        watchlist.write_text(GOOD.format(term="earthquake"))
        await daemon.reload_watchlists()
        assert daemon.watchlists.problems == []
        await publish("c2", "Second coup attempt reported in the north")
        await publish("q1", "Earthquake shakes the coast")
    # after the fix the second coup does not alert, the earthquake does
    assert alerted_titles(engine) == [
        "Coup attempt foiled in the capital",
        "Earthquake shakes the coast",
    ]
