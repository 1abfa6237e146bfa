"""INSERT … ON CONFLICT on both engines."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def dialect_insert(dialect: str) -> Any:
    """Dialect switch: SQLite and PostgreSQL both have INSERT … ON CONFLICT, under different
    constructs with the same API. Build the statement once per dialect (``functools.cache``:
    building one, its ``excluded`` alias above all, cost more than running it) and execute it
    with a list of rows (executemany), so its compiled form is cached too."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name
