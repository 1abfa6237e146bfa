"""The seed corpus end to end through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app


def test_seeds_make_two_stories_with_related_link(
    tmp_path: Path, seeds_dir: Path, watchlists_dir: Path
) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'm.db'}"
    result = runner.invoke(
        app, ["backfill", str(seeds_dir), "--database-url", db, "-w", str(watchlists_dir), "-q"]
    )
    assert result.exit_code == 0, result.output
    stories = json.loads(runner.invoke(app, ["stories", "--json", "--database-url", db]).output)
    assert len(stories) == 2
    coup, analysis = stories
    assert sorted(coup["languages"]) == ["en", "tr"]
    assert coup["related"] == [analysis["id"]]
