"""`monitor export` round trip and `monitor prune`: old items keep their story, not their bulk."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.store.database import make_engine
from monitor.store.models import Item, utcnow

runner = CliRunner()


def monitor(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def items(url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(Item).order_by(Item.external_id)).all()
        found = [
            (i.external_id, i.title, i.text, i.language, i.published, i.content_hash, i.anchors)
            for i in rows
        ]
    engine.dispose()
    return found


def test_an_export_backfilled_into_an_empty_database_gives_the_same_items_and_stories(
    db_url: str, seeds_dir: Path, watchlists_dir: Path, tmp_path: Path
) -> None:
    monitor("backfill", str(seeds_dir), "--database-url", db_url, "-w", str(watchlists_dir), "-q")
    export = tmp_path / "items.jsonl"
    assert "export: 3 items" in monitor("export", str(export), "--database-url", db_url)
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    assert {tuple(r) for r in rows} == {
        ("id", "url", "title", "text", "published", "language", "source")
    }
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    output = monitor("backfill", str(export), "--database-url", copy, "-w", str(watchlists_dir))
    assert output.strip().endswith(
        "3 new, 0 duplicates, 0 corrections, 2 stories, 58 matches, 4 alerts, 0 errors"
    )
    assert items(copy) == items(db_url)
    stories = [
        json.loads(monitor("stories", "--json", "--database-url", u)) for u in (db_url, copy)
    ]
    for story in stories[0] + stories[1]:
        story.pop("id"), story.pop("related"), story.pop("first_seen")
        for item in story["items"]:
            item.pop("id")
        for match in story["matches"]:
            match.pop("item_id")
    assert stories[0] == stories[1]
    since = monitor("export", "-", "--since", "2025-10-01", "--database-url", db_url)
    assert len(since.splitlines()) == 2  # the February analysis is older


def test_prune_keeps_stories_titles_and_dedupe_but_drops_old_text(
    db_url: str, watchlists_dir: Path, tmp_path: Path
) -> None:
    now = utcnow()
    corpus = tmp_path / "feed.jsonl"
    lines = [
        {"id": "old", "title": "Flood in Ganja", "text": "Rivers rose in Ganja and Shamkir.",
         "published": (now - timedelta(days=40)).isoformat()},
        {"id": "recent", "title": "Vote in Baku", "text": "Parliament in Baku voted on Tuesday.",
         "published": (now - timedelta(days=10)).isoformat()},
        {"id": "undated", "title": "Talks", "text": "Delegations from Yerevan met in Tbilisi."},
    ]  # fmt: skip
    corpus.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ("--database-url", db_url, "-w", str(watchlists_dir), "-q")
    monitor("backfill", str(corpus), *args)
    assert "prune: 1 items older than 30 days" in monitor("prune", "--older-than", "30", *args[:2])
    assert "prune: 0 items" in monitor("prune", "--older-than", "30", *args[:2])
    kept = {row[0]: row for row in items(db_url)}
    assert kept["old"][1:3] == ("Flood in Ganja", "") and kept["recent"][2] != ""
    assert kept["undated"][2] != ""  # its age is when it was first seen: now
    stories = json.loads(monitor("stories", "--json", *args[:2]))
    assert len(stories) == 3 and "Flood in Ganja" in {s["title"] for s in stories}
    again = monitor("backfill", str(corpus), *args)
    assert "0 new, 3 duplicates" in again and " 0 stories" in again
