"""Hot reload: a broken edit keeps the last good version; the fix installs without restart."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from monitor.config import StorySettings
from monitor.pipeline import Pipeline
from monitor.watchlist.live import LiveWatchlists
from monitor.watchlist.schema import Watchlist

FIRST = """version: 1
actors:
  - name: Ramiz Mehdiyev
"""
SECOND = """version: 1
actors:
  - name: Ramiz Mehdiyev
  - name: Rossotrudnichestvo
    type: organisation
"""
BROKEN = """version: 1
actors:
  - name: Ramiz Mehdiyev
    aliasses: [Мехтиев]
"""


def actor_names(watchlists: list[Watchlist]) -> list[str]:
    return [a.name for w in watchlists for a in w.actors]


def test_broken_edit_keeps_last_good_version(
    tmp_path: Path, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "baku.yaml"
    path.write_text(FIRST)
    pipeline = Pipeline(engine, StorySettings(), [], None, deliver=False)  # type: ignore[arg-type]
    live = LiveWatchlists(tmp_path, on_change=pipeline.set_watchlists)
    assert live.reload() is True
    assert actor_names(pipeline.watchlists) == ["Ramiz Mehdiyev"]
    assert live.reload() is False  # nothing changed on disk

    path.write_text(BROKEN)
    with caplog.at_level(logging.ERROR):
        assert live.reload() is False
    assert "keeping the version installed at" in caplog.text
    assert [str(p) for p in live.problems] == [
        f"{path}:4:5: actors.0.aliasses: Extra inputs are not permitted"
    ]
    assert actor_names(pipeline.watchlists) == ["Ramiz Mehdiyev"]
    assert [h.name for h in pipeline.matcher.find("Mekhtiyev was arrested")] == ["Ramiz Mehdiyev"]

    path.write_text(SECOND)
    assert live.reload() is True
    assert live.problems == []
    assert actor_names(pipeline.watchlists) == ["Ramiz Mehdiyev", "Rossotrudnichestvo"]
    assert [h.name for h in pipeline.matcher.find("Rossotrudnichestvo")] == ["Rossotrudnichestvo"]


def test_broken_at_start_installs_nothing(tmp_path: Path) -> None:
    (tmp_path / "baku.yaml").write_text(BROKEN)
    live = LiveWatchlists(tmp_path)
    assert live.reload() is False
    assert live.current == [] and len(live.problems) == 1


async def test_watch_reloads_on_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "baku.yaml"
    path.write_text(FIRST)
    installed: asyncio.Queue[list[str]] = asyncio.Queue()
    live = LiveWatchlists(path, on_change=lambda w: installed.put_nowait(actor_names(w)))
    live.reload()
    assert installed.get_nowait() == ["Ramiz Mehdiyev"]
    stop = asyncio.Event()
    watcher = asyncio.create_task(live.watch(stop, debounce_ms=50))
    try:
        await asyncio.sleep(0.3)  # let the watcher start
        path.write_text(BROKEN)
        while not live.problems:
            await asyncio.sleep(0.05)
        assert installed.empty() and actor_names(live.current) == ["Ramiz Mehdiyev"]
        # An editor's save: write a new file, rename it over the old one.
        (tmp_path / "baku.yaml.new").write_text(SECOND)
        (tmp_path / "baku.yaml.new").rename(path)
        fixed = await asyncio.wait_for(installed.get(), timeout=30)
        assert fixed == ["Ramiz Mehdiyev", "Rossotrudnichestvo"]
        assert live.problems == []
    finally:
        stop.set()
        await asyncio.wait_for(watcher, timeout=30)
