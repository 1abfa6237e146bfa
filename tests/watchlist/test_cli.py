"""`monitor watchlists check` and `monitor watchlists test` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def seeded_db(
    tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path, watchlists_dir: Path
) -> str:
    """The seed corpus backfilled into a fresh SQLite file, as an operator would."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'monitor.db'}"
    args = ["backfill", str(seeds_dir), "--database-url", url, "-w", str(watchlists_dir), "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return url


def replay(draft: Path, db: str, live: Path, *extra: str) -> dict[str, Any]:
    args = ["watchlists", "test", str(draft), "--database-url", db, "-w", str(live), "--json"]
    result = runner.invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def story_hits(report: dict[str, Any], rule: str) -> dict[str, set[tuple[str, str, str]]]:
    """Story title → (name, term, method) of every hit, for one rule."""
    [found] = [r for r in report["rules"] if r["rule"] == rule]
    return {
        s["title"]: {(h["name"], h["term"], h["method"]) for i in s["items"] for h in i["hits"]}
        for s in found["stories"]
        if s["change"] != "lost"
    }


def test_seeds_replayed_against_the_example_watchlist(seeded_db: str, watchlists_dir: Path) -> None:
    draft = watchlists_dir / "azerbaijan-russia.yaml"
    report = replay(draft, seeded_db, watchlists_dir)
    assert report["items"] == 3 and report["new"] == report["lost"] == 0

    coup = story_hits(report, "coup-in-baku")
    [(title, hits)] = coup.items()
    assert title.startswith("Moscow warns Azerbaijan of planned coup")
    assert ("Ramiz Mehdiyev", "Mekhtiyev", "folded") in hits
    assert ("coup", "coup", "keyword") in hits
    assert ("coup", "darbe", "keyword") in hits

    february = story_hits(report, "mehdiyev")
    analysis = next(t for t in february if t.startswith("Internal Political Aspects"))
    assert ("Ramiz Mehdiyev", "Ramiz Mehdiyev", "alias") in february[analysis]
    soft_power = story_hits(report, "russian-soft-power")
    assert ("Rossotrudnichestvo", "Rossotrudnichestvo", "alias") in soft_power[analysis]


def test_draft_shows_new_and_lost_hits(
    seeded_db: str, watchlists_dir: Path, tmp_path: Path
) -> None:
    live = (watchlists_dir / "azerbaijan-russia.yaml").read_text(encoding="utf-8")
    draft = tmp_path / "azerbaijan-russia.yaml"
    draft.write_text(
        live.replace(
            "  - name: russian-soft-power\n",
            "  - name: russian-soft-power\n    languages: [tr]\n",
        )
        + "  - name: treason\n    any: [treason]\n",
        encoding="utf-8",
    )
    report = replay(draft, seeded_db, watchlists_dir)
    rules = {r["rule"]: r for r in report["rules"]}
    assert len(rules["russian-soft-power"]["lost"]) == 1
    assert rules["russian-soft-power"]["stories"][0]["change"] == "lost"
    assert rules["treason"]["in_live"] is False and len(rules["treason"]["new"]) == 1
    assert report["new"] == 1 and report["lost"] == 1

    text = runner.invoke(
        app,
        ["watchlists", "test", str(draft), "--database-url", seeded_db, "-w", str(watchlists_dir)],
    ).stdout
    assert "nothing sent" in text
    assert "treason (new rule)" in text and "+1 new" in text


def test_since_limits_the_replay(seeded_db: str, watchlists_dir: Path) -> None:
    draft = watchlists_dir / "azerbaijan-russia.yaml"
    report = replay(draft, seeded_db, watchlists_dir, "--since", "2025-06-01")
    assert report["items"] == 2
    assert all(s["title"].startswith("Moscow") for r in report["rules"] for s in r["stories"])


def test_replay_sends_and_stores_nothing(
    seeded_db: str, watchlists_dir: Path, tmp_path: Path
) -> None:
    before = runner.invoke(app, ["alerts", "--json", "--database-url", seeded_db]).stdout
    draft = tmp_path / "new.yaml"
    draft.write_text("version: 1\nkeywords:\n  - name: coup\n    terms: [coup]\n")
    replay(draft, seeded_db, watchlists_dir)
    assert runner.invoke(app, ["alerts", "--json", "--database-url", seeded_db]).stdout == before


def test_broken_draft_is_refused(seeded_db: str, watchlists_dir: Path, tmp_path: Path) -> None:
    draft = tmp_path / "bad.yaml"
    draft.write_text("version: 1\nrules:\n  - name: r\n    any: [nobody]\n")
    args = [
        "watchlists",
        "test",
        str(draft),
        "--database-url",
        seeded_db,
        "-w",
        str(watchlists_dir),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert (
        f"{draft}:4:11: rules.0.any.0: rule 'r' names 'nobody', no actor or keyword of that name"
        in result.stderr
    )


def test_check_reports_every_problem_and_fails(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\nactors:\n  - nam: x\n")
    (tmp_path / "b.yaml").write_text("version: 1\nrules:\n  - name: r\n    any: [nobody]\n")
    result = runner.invoke(app, ["watchlists", "check", "-w", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"{tmp_path}/a.yaml:3:5: actors.0.name: Field required",
        f"{tmp_path}/a.yaml:3:5: actors.0.nam: Extra inputs are not permitted",
        f"{tmp_path}/b.yaml:4:11: rules.0.any.0: rule 'r' names 'nobody', "
        "no actor or keyword of that name",
    ]
    assert "last good version" in lines[3]
    as_json = runner.invoke(app, ["watchlists", "check", "-w", str(tmp_path), "--json"])
    assert as_json.exit_code == 1
    assert len(json.loads(as_json.stdout)["problems"]) == 3


def test_check_passes_the_example(watchlists_dir: Path) -> None:
    result = runner.invoke(app, ["watchlists", "check", "-w", str(watchlists_dir)])
    assert result.exit_code == 0, result.output
    assert "azerbaijan-russia (4 actors, 3 keywords, 3 rules)" in result.stdout


def test_backfill_applies_rule_filters(seeds_dir: Path, tmp_path: Path) -> None:
    """The pipeline hands each report's language and source to the rules."""
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "w.yaml").write_text(
        "version: 1\n"
        "keywords:\n  - name: coup\n    terms: [coup, darbe]\n"
        "rules:\n"
        "  - name: turkish\n    any: [coup]\n    languages: [tr]\n"
        "  - name: elsewhere\n    any: [coup]\n    sources: ['*example.org*']\n",
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'm.db'}"
    args = ["backfill", str(seeds_dir), "--database-url", db, "-w", str(folder), "-q"]
    assert runner.invoke(app, args).exit_code == 0
    stories = json.loads(runner.invoke(app, ["stories", "--json", "--database-url", db]).stdout)
    matched = {(m["rule"], m["term"]) for s in stories for m in s["matches"]}
    assert matched and {rule for rule, _ in matched} == {"turkish"}
    assert {term.lower() for _, term in matched} == {"darbe"}
