"""Analyst decisions through the real CLI, and later reports through the real pipeline."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.backfill import prepare, read_targets
from monitor.cli import app
from monitor.normalize.dates import zone
from monitor.pipeline import Incoming, Pipeline
from monitor.store.models import Alert, Item, Story, StoryDecision
from monitor.story import decisions

runner = CliRunner()


def backfill(pipeline: Pipeline, engine: Engine, seeds_dir: Path) -> list[Incoming]:
    corpus = prepare(engine, read_targets([str(seeds_dir)]), zone("UTC"))
    pipeline.ingest(corpus.incoming)
    return corpus.incoming


def story_ids(engine: Engine) -> tuple[int, int]:
    """(coup story, February analysis)."""
    with Session(engine) as session:
        coup = session.exec(select(Story).where(Story.item_count == 2)).one()
        other = session.exec(select(Story).where(Story.item_count == 1)).one()
        assert coup.id is not None and other.id is not None
        return coup.id, other.id


def cli(engine: Engine, *args: str) -> dict[str, object]:
    result = runner.invoke(app, ["stories", *args, "--json", "--database-url", str(engine.url)])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def test_muted_story_raises_no_more_alerts(
    pipeline: Pipeline, engine: Engine, seeds_dir: Path
) -> None:
    incoming = backfill(pipeline, engine, seeds_dir)
    coup, _ = story_ids(engine)
    assert cli(engine, "mute", str(coup))["muted"] is True
    with Session(engine) as session:
        for alert in session.exec(select(Alert).where(Alert.story_id == coup)).all():
            session.delete(alert)  # as if the alert had never been raised
        session.commit()
    turkish = next(i for i in incoming if i.article.language == "tr")
    copy = replace(turkish.article, external_id="wire-copy", canonical_url=None)
    stats = pipeline.ingest([Incoming(turkish.source_id, copy)])
    assert stats.new == 1 and stats.matches > 0 and stats.alerts == 0
    with Session(engine) as session:
        assert session.exec(select(Alert).where(Alert.story_id == coup)).all() == []


def test_split_report_keeps_its_copies(pipeline: Pipeline, engine: Engine, seeds_dir: Path) -> None:
    incoming = backfill(pipeline, engine, seeds_dir)
    coup, _ = story_ids(engine)
    with Session(engine) as session:
        turkish_item = session.exec(select(Item).where(Item.language == "tr")).one()
    new_story = cli(engine, "split", str(turkish_item.id))["id"]
    assert new_story not in (coup, None)
    turkish = next(i for i in incoming if i.article.language == "tr")
    copy = replace(turkish.article, external_id="wire-copy", canonical_url=None)
    pipeline.ingest([Incoming(turkish.source_id, copy)])
    with Session(engine) as session:
        assert session.get(Story, coup).item_count == 1  # type: ignore[union-attr]
        copy_item = session.exec(select(Item).where(Item.external_id == "wire-copy")).one()
        assert copy_item.story_id == new_story
        assert session.exec(select(StoryDecision.action)).all() == ["split"]


def test_merged_story_takes_later_reports(
    pipeline: Pipeline, engine: Engine, seeds_dir: Path
) -> None:
    incoming = backfill(pipeline, engine, seeds_dir)
    coup, analysis = story_ids(engine)
    assert cli(engine, "merge", str(coup), str(analysis))["id"] == coup
    with Session(engine) as session:
        merged = session.get(Story, analysis)
        assert merged is not None and merged.merged_into == coup and merged.item_count == 0
        assert session.get(Story, coup).item_count == 3  # type: ignore[union-attr]
    february = next(i for i in incoming if "Initiative" in i.article.title)
    copy = replace(february.article, external_id="wire-copy", canonical_url=None)
    pipeline.ingest([Incoming(february.source_id, copy)])
    with Session(engine) as session:
        copy_item = session.exec(select(Item).where(Item.external_id == "wire-copy")).one()
        assert copy_item.story_id == coup


def test_decisions_refuse_the_impossible(
    pipeline: Pipeline, engine: Engine, seeds_dir: Path
) -> None:
    backfill(pipeline, engine, seeds_dir)
    coup, analysis = story_ids(engine)
    result = runner.invoke(
        app, ["stories", "merge", str(coup), str(coup), "--database-url", str(engine.url)]
    )
    assert result.exit_code == 2 and "already one story" in result.output
    result = runner.invoke(app, ["stories", "mute", "999", "--database-url", str(engine.url)])
    assert result.exit_code == 2 and "no story 999" in result.output
    with Session(engine) as session:
        lone = session.exec(select(Item).where(Item.story_id == analysis)).one()
        assert lone.id is not None
        try:
            decisions.split(session, lone.id)
        except decisions.DecisionError as exc:
            assert "only report" in str(exc)
        else:
            raise AssertionError("split of a lone report must fail")
