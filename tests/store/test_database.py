"""The database as every command opens it: migrated, in WAL mode, models and schema agreeing."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from monitor.store import models  # noqa: F401  (registers the tables)
from monitor.store.database import current_revision, head_revision, open_database


@pytest.mark.db("sqlite")  # reads SQLite's pragmas
def test_a_new_sqlite_file_is_migrated_to_head_in_wal_mode(engine: Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_the_migrations_create_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_opening_again_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    open_database(url).dispose()
    engine = open_database(url)
    assert current_revision(engine) == head_revision(engine)
