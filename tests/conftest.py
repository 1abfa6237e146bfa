"""Fixtures every stage's tests share: the shared data folder, a real SQLite database, the model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from monitor.config import StorySettings
from monitor.pipeline import Pipeline
from monitor.store.database import open_database
from monitor.story.embedding import Embedder, load_embedder
from monitor.watchlist.loader import load_watchlists

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout (CI), else the workplace's copy."""
    for candidate in (REPO.parent / "shared", Path("/work/shared")):
        if (candidate / "seeds").is_dir():
            return candidate
    pytest.skip("the shared data folder (../shared) is not beside this checkout")


@pytest.fixture(scope="session")
def seeds_dir(shared_dir: Path) -> Path:
    return shared_dir / "seeds"


@pytest.fixture(scope="session")
def watchlists_dir() -> Path:
    return REPO / "watchlists"


@pytest.fixture(scope="session")
def embedder() -> Embedder | None:
    return load_embedder("use-m3")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A real SQLite file, migrated by Alembic like a user's."""
    engine = open_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def pipeline(engine: Engine, embedder: Embedder | None, watchlists_dir: Path) -> Pipeline:
    return Pipeline(
        engine, StorySettings(), load_watchlists(watchlists_dir), embedder, deliver=False
    )
