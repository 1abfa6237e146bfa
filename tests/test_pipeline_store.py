"""How a batch of new reports is written: each all or nothing, never twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from monitor.backfill import prepare
from monitor.normalize.dates import zone
from monitor.parse.corpus import read_path
from monitor.pipeline import Pipeline
from monitor.store.models import Item, Story


def test_a_report_stored_since_its_batch_was_prepared_is_a_duplicate_and_the_rest_stay(
    pipeline: Pipeline, seeds_dir: Path
) -> None:
    corpus = prepare(pipeline.engine, list(read_path(seeds_dir)), zone("UTC"))
    prepared = pipeline.prepare(corpus.incoming)
    assert len(prepared.fresh) == 3
    other = Pipeline(
        pipeline.engine, pipeline.story_settings, pipeline.watchlists, None, deliver=False
    )
    other.ingest([prepared.fresh[1]])  # another worker, or backfill, got there first

    stats = pipeline.store(prepared)

    assert (stats.new, stats.duplicates) == (2, 1)
    with Session(pipeline.engine) as session:
        assert session.exec(select(func.count()).select_from(Item)).one() == 3
        assert sum(s.item_count for s in session.exec(select(Story)).all()) == 3


def test_a_report_twice_in_one_batch_is_stored_once(pipeline: Pipeline, seeds_dir: Path) -> None:
    corpus = prepare(pipeline.engine, list(read_path(seeds_dir)), zone("UTC"))
    twice = [*corpus.incoming, corpus.incoming[0]]  # e.g. one article in two files

    stats = pipeline.ingest(twice)

    assert (stats.new, stats.duplicates) == (3, 1)
    with Session(pipeline.engine) as session:
        assert session.exec(select(func.count()).select_from(Item)).one() == 3


@pytest.mark.db("sqlite")
def test_a_failed_batch_stores_nothing_and_its_reports_leave_the_window(
    pipeline: Pipeline, seeds_dir: Path
) -> None:
    """SQLite writes a batch in one transaction: when its second report fails, the first is
    rolled back too, and must not stay in the window for a later report to join."""
    corpus = prepare(pipeline.engine, list(read_path(seeds_dir)), zone("UTC"))
    prepared = pipeline.prepare(corpus.incoming)
    prepared.vectors[1] = np.ones(7, dtype=np.float32)  # no model gives that: the batch fails
    with pytest.raises(Exception):  # noqa: B017 (whatever the vector index raises)
        pipeline.store(prepared)
    with Session(pipeline.engine) as session:
        assert session.exec(select(func.count()).select_from(Item)).one() == 0

    stats = pipeline.ingest(corpus.incoming)

    assert (stats.new, stats.stories) == (3, 2)
    with Session(pipeline.engine) as session:
        stories = {s.id for s in session.exec(select(Story)).all()}
        assert {i.story_id for i in session.exec(select(Item)).all()} <= stories


def test_a_story_spans_its_reports_publication_dates(pipeline: Pipeline, seeds_dir: Path) -> None:
    corpus = prepare(pipeline.engine, list(read_path(seeds_dir)), zone("UTC"))
    pipeline.ingest(list(reversed(corpus.incoming)))
    with Session(pipeline.engine) as session:
        for story in session.exec(select(Story)).all():
            dates = [
                i.published
                for i in session.exec(select(Item).where(Item.story_id == story.id)).all()
                if i.published is not None
            ]
            assert (story.first_published, story.last_published) == (min(dates), max(dates))
            assert story.item_count == len(dates)
