"""Migrations on both engines: data written by the first schema survives every upgrade."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session, select

from alembic import command
from monitor.store import database
from monitor.store.models import Alert, Item, Source, Story, Worker

WHEN = datetime(2025, 10, 20, 9, 30, tzinfo=UTC)

# Rows as revision 0001 knew them, written with that revision's columns only.
# Ids come from the engine's own sequences, so rows added after the upgrade get fresh ones.
ROWS_AT_0001 = [
    "INSERT INTO source (key, kind, name, consecutive_failures, items_seen, created_at)"
    " VALUES ('file:///seeds', 'file', 'seeds', 0, 1, :when)",
    "INSERT INTO story (title, first_published, last_published, first_seen, updated_at,"
    " item_count) VALUES ('Coup attempt', :when, :when, :when, :when, 1)",
    "INSERT INTO item (source_id, external_id, content_hash, title, text, language,"
    " published, published_kind, first_seen, story_id, anchors)"
    " SELECT source.id, 'a.txt', 'h1', 'Coup attempt', 'Body in Türkçe — ё', 'tr', :when,"
    " 'feed', :when, story.id, 'n:metiev' FROM source, story",
    "INSERT INTO alert (story_id, watchlist, rule, channel, severity, state, attempts,"
    " created) SELECT id, 'az', 'coup', 'console', 'high', 'pending', 0, :when FROM story",
]


def test_data_written_at_0001_survives_the_upgrade_to_head(db_url: str) -> None:
    engine = database.make_engine(db_url)
    database.upgrade(engine, "0001")
    with engine.begin() as connection:
        for statement in ROWS_AT_0001:
            connection.execute(text(statement), {"when": WHEN})
    database.upgrade(engine)
    assert database.current_revision(engine) == database.head_revision(engine)
    with Session(engine) as session:
        item = session.exec(select(Item)).one()
        assert (item.text, item.published, item.anchors) == ("Body in Türkçe — ё", WHEN, "n:metiev")
        assert session.exec(select(Story.title)).one() == "Coup attempt"
        assert session.exec(select(Source.key)).one() == "file:///seeds"
        alert = session.exec(select(Alert)).one()
        assert (alert.state, alert.story_id) == ("pending", item.story_id)
        assert session.exec(select(Worker)).all() == []
        session.add(Item(source_id=item.source_id, content_hash="h2", title="next", text="t"))
        session.commit()  # the id sequence carries on past the rows written at 0001
    engine.dispose()


def test_every_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    engine = database.make_engine(db_url)
    database.upgrade(engine)
    command.downgrade(database.alembic_config(engine), "base")
    assert database.current_revision(engine) is None
    database.upgrade(engine)
    assert database.current_revision(engine) == database.head_revision(engine)
    engine.dispose()
