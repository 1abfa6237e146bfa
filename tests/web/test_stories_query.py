"""The stories page's keyset paging: right order, no gaps, and an index under every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from monitor.store.models import Story
from monitor.web.data import StoryFilter, list_stories, parse_cursor, stories_query

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def add_stories(engine: Engine, n: int) -> None:
    with Session(engine) as session:
        # pairs share a first_seen, so the id breaks ties
        session.add_all(
            Story(title=f"s{i}", first_seen=T0 + timedelta(hours=i // 2)) for i in range(n)
        )
        session.commit()


def plan(engine: Engine, f: StoryFilter) -> str:
    compiled = stories_query(f).compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_pages_walk_every_story_once_newest_first(engine: Engine) -> None:
    add_stories(engine, 23)
    seen: list[int] = []
    f = StoryFilter(limit=5)
    with Session(engine) as session:
        while True:
            rows, cursor = list_stories(session, f)
            seen += [r["id"] for r in rows]
            if cursor is None:
                break
            f = StoryFilter(limit=5, after=parse_cursor(cursor))
    assert seen == list(range(23, 0, -1))


@pytest.mark.db("sqlite")  # reads SQLite's EXPLAIN QUERY PLAN
def test_every_page_is_read_through_an_index(engine: Engine) -> None:
    """EXPLAIN QUERY PLAN: an index scan in order, never a sort of the whole table."""
    add_stories(engine, 50)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    for f in (
        StoryFilter(),
        StoryFilter(after=(T0 + timedelta(hours=10), 21)),
        StoryFilter(since=T0, until=T0 + timedelta(days=1)),
        StoryFilter(watchlist="azerbaijan-russia", language="en"),
    ):
        text_plan = plan(engine, f)
        assert "INDEX ix_story_first_seen" in text_plan, text_plan
        assert "TEMP B-TREE" not in text_plan, text_plan
        assert "SCAN story\n" not in text_plan + "\n", text_plan
