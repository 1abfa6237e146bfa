"""Engine creation and schema upgrades.

The schema comes only from Alembic migrations. They live in the repository's top-level
``alembic/`` folder and ship inside the wheel as ``monitor/_alembic``, so an installed
``monitor`` can upgrade its own database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlmodel import create_engine

from alembic import command

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
SQLITE_BUSY_TIMEOUT_MS = 10_000


def migrations_dir() -> Path:
    for candidate in (_PACKAGE_DIR / "_alembic", _PACKAGE_DIR.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError("monitor's Alembic migrations are missing from this installation")


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:  # dialect switch: SQLite
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Copy the log into the database every 40 MB rather than 4: each copy (and its
        # fsync) took 14 ms every 20 or so batches, half of what committing cost; a hot
        # index page is now copied once where it was copied many times.
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def open_database(url: str) -> Engine:
    """An engine on an up-to-date schema.

    A SQLite file belongs to one user and is upgraded in place. A shared PostgreSQL database
    is upgraded only when empty; otherwise an operator runs ``monitor db upgrade`` once,
    rather than every worker racing to migrate it.
    """
    engine = make_engine(url)
    current = current_revision(engine)
    if current != head_revision(engine):
        if current is not None and engine.dialect.name != "sqlite":
            raise RuntimeError(
                f"database schema is at {current}, this monitor needs {head_revision(engine)}: "
                "run `monitor db upgrade`"
            )
        upgrade(engine)
    return engine
