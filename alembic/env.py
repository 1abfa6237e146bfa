"""Alembic environment: runs on the engine monitor hands over, or on alembic.ini's URL."""

from __future__ import annotations

from sqlmodel import SQLModel

from alembic import context
from monitor.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from monitor.store.database import make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Dialect switch: SQLite alters a table by copying it and dropping the old one, which
        # foreign-key checks refuse once rows point at it; the pragma works only outside a
        # transaction. The copy keeps every row, so the keys hold again afterwards (checked).
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=SQLModel.metadata,
                render_as_batch=sqlite,
            )
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
