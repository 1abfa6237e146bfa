"""Alembic environment: runs on the engine monitor hands over, or on alembic.ini's URL."""

from __future__ import annotations

from sqlmodel import SQLModel

from alembic import context
from monitor.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from monitor.store.database import make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
