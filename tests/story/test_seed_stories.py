"""Story detection on the seed corpus through the real pipeline."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from monitor.backfill import prepare
from monitor.normalize.dates import zone
from monitor.parse.corpus import read_path
from monitor.pipeline import Pipeline
from monitor.store.models import Item, StoryLink


def test_english_and_turkish_reports_are_one_story_and_the_analysis_is_related(
    pipeline: Pipeline, seeds_dir: Path
) -> None:
    corpus = prepare(pipeline.engine, list(read_path(seeds_dir)), zone("UTC"))
    stats = pipeline.ingest(corpus.incoming)
    assert (stats.new, stats.stories) == (3, 2)
    with Session(pipeline.engine) as session:
        story_of = {
            i.external_id[:3]: i.story_id for i in session.exec(select(Item)).all() if i.external_id
        }
        links = session.exec(select(StoryLink)).all()
    assert story_of["000"] == story_of["001"] != story_of["002"]
    assert [(link.story_id, link.related_id) for link in links] == [
        (story_of["000"], story_of["002"])
    ]


def test_ingesting_again_changes_nothing(pipeline: Pipeline, seeds_dir: Path) -> None:
    corpus = prepare(pipeline.engine, list(read_path(seeds_dir)), zone("UTC"))
    pipeline.ingest(corpus.incoming)
    again = pipeline.ingest(corpus.incoming)
    assert (again.new, again.duplicates, again.stories, again.alerts) == (0, 3, 0, 0)


def test_without_a_model_the_anchors_still_decide(
    engine, watchlists_dir: Path, seeds_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from monitor.config import StorySettings
    from monitor.watchlist.loader import load_watchlists

    pipeline = Pipeline(
        engine, StorySettings(), load_watchlists(watchlists_dir), None, deliver=False
    )
    corpus = prepare(engine, list(read_path(seeds_dir)), zone("UTC"))
    assert pipeline.ingest(corpus.incoming).new == 3  # no crash, every report stored
