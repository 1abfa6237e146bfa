"""Fixtures every stage's tests share: the shared data folder, a real database, the model.

Tests that take ``db_url`` (or ``engine``, which opens it) run once per engine: SQLite and a
PostgreSQL server the session starts on loopback (tests/pg_server.py). ``--db sqlite`` narrows
a run to one engine for a quick loop; CI runs both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from monitor.config import StorySettings
from monitor.pipeline import Pipeline
from monitor.store.database import open_database
from monitor.story.embedding import Embedder, load_embedder
from monitor.watchlist.loader import load_watchlists
from tests.pg_server import PostgresServer, Unavailable

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


ENGINES = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=",".join(ENGINES),
        help="comma-separated engines for database tests (default: sqlite,postgresql)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "db(*engines): run a database test only on these engines (EXPLAIN, PRAGMA)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_url" in metafunc.fixturenames:
        kinds = [k for k in metafunc.config.getoption("--db").split(",") if k in ENGINES]
        if only := metafunc.definition.get_closest_marker("db"):
            kinds = [k for k in kinds if k in only.args]
        metafunc.parametrize("db_url", kinds, indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session; skipped only where it is not installed at all."""
    try:
        server = PostgresServer.start()
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc} (.ci/run installs it)")
    yield server
    server.stop()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the parametrized engine: a SQLite file, or a fresh PG database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = server.url().replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield server.url(name)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A real database, migrated by Alembic like a user's."""
    engine = open_database(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pipeline(engine: Engine, embedder: Embedder | None, watchlists_dir: Path) -> Pipeline:
    return Pipeline(
        engine, StorySettings(), load_watchlists(watchlists_dir), embedder, deliver=False
    )
