"""`monitor backfill` as an operator runs it: seeds, re-runs, broken watchlists, hostile feeds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.normalize.urls import canonical_url

runner = CliRunner()


def monitor(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def counts(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.fixture
def db(db_url: str) -> str:
    return db_url


def test_seeds_give_two_stories_alerts_and_the_mekhtiyev_match(
    db: str, seeds_dir: Path, watchlists_dir: Path
) -> None:
    code, output = monitor(
        "backfill", str(seeds_dir), "--database-url", db, "-w", str(watchlists_dir)
    )
    assert code == 0, output
    assert "Ramiz Mehdiyev as “Mekhtiyev”" in output  # a variant matched, and says so
    assert "Earlier related" in output and "Internal Political Aspects" in output
    assert counts(output) == (
        "backfill: 3 read, 3 new, 0 duplicates, 0 corrections, 2 stories, 58 matches, "
        "4 alerts, 0 errors"
    )
    stories = json.loads(monitor("stories", "--json", "--database-url", db)[1])
    coup, analysis = stories
    assert sorted(coup["languages"]) == ["en", "tr"] and analysis["languages"] == ["en"]
    assert coup["related"] == [analysis["id"]]
    assert {m["method"] for m in coup["matches"] if m["term"] == "Mekhtiyev"} == {"folded"}
    assert set(coup["items"][0]) >= {
        "id",
        "external_id",
        "url",
        "source",
        "language",
        "title",
        "published",
        "published_estimated",
    }
    alerts = json.loads(monitor("alerts", "--json", "--database-url", db)[1])
    assert {a["story_id"] for a in alerts} == {coup["id"], analysis["id"]}
    assert all(a["state"] == "sent" and a["channel"] == "console" for a in alerts)


def test_a_second_run_from_another_directory_adds_nothing(
    db: str, seeds_dir: Path, watchlists_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monitor("backfill", str(seeds_dir), "--database-url", db, "-w", str(watchlists_dir), "-q")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    relative = Path("..") / Path(*[".."] * len(elsewhere.parts)) / seeds_dir.relative_to("/")
    code, output = monitor(
        "backfill", str(relative), "--database-url", db, "-w", str(watchlists_dir), "-q"
    )
    assert code == 0
    assert (
        counts(output)
        == "backfill: 3 read, 0 new, 3 duplicates, 0 corrections, 0 stories, 0 matches, "
        "0 alerts, 0 errors"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\nactors:\n  - name: A\n    aliases: [B\n", r":5:1: YAML syntax"),
        (
            "version: 1\nactors:\n  - name: A\n    alias: [B]\n",
            r":4:5: actors\.0\.alias: Extra inputs",
        ),
    ],
)
def test_a_broken_watchlist_stops_before_any_change(
    tmp_path: Path, seeds_dir: Path, text: str, where: str
) -> None:
    (tmp_path / "lists").mkdir()
    bad = tmp_path / "lists" / "bad.yaml"
    bad.write_text(text)
    code, output = monitor(
        "backfill",
        str(seeds_dir),
        "--database-url",
        f"sqlite:///{tmp_path / 'x.db'}",
        "-w",
        str(bad.parent),
    )
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(re.escape(str(bad)) + where, lines[0]), output
    assert not (tmp_path / "x.db").exists()


def test_hostile_and_real_feeds_keep_every_expected_entry(
    db: str, shared_dir: Path, watchlists_dir: Path
) -> None:
    eval_dir = shared_dir / "eval"
    code, output = monitor(
        "backfill",
        str(eval_dir / "feedparser-tests"),
        str(eval_dir / "real-feeds"),
        "--database-url",
        db,
        "-w",
        str(watchlists_dir),
        "-q",
    )
    assert code == 0, output
    assert "Traceback" not in output
    assert re.search(r"could not read \S+aaa_illformed\.xml: not a readable feed", output)
    stored = json.loads(monitor("stories", "--json", "--database-url", db)[1])
    links = {canonical_url(i["url"]) for s in stored for i in s["items"]}
    for expected in sorted((eval_dir / "real-feeds").glob("*.json")):
        document = json.loads(expected.read_text())
        if "entries" not in document:
            continue  # a JSON Feed input, not an expected result
        wanted = {canonical_url(e["link"]) for e in document["entries"] if e.get("link")}
        assert wanted <= links, f"{expected.name}: missing {sorted(wanted - links)[:3]}"
