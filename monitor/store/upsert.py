"""INSERT … ON CONFLICT on both engines."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def dialect_insert(session: Session) -> Any:
    """Dialect switch: SQLite and PostgreSQL both have INSERT … ON CONFLICT, under different
    constructs with the same API. Execute the result with a list of rows (executemany), so its
    compiled form is cached whatever the number of rows."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
