"""`monitor db`: the database schema."""

from __future__ import annotations

import typer

from monitor.cli.common import ConfigOption, DatabaseOption, out, settings_from
from monitor.store import database

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command("upgrade")
def upgrade(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Apply the schema migrations."""
    settings = settings_from(config, database_url=database_url)
    engine = database.make_engine(settings.database_url)
    database.upgrade(engine)
    out.print(f"database at revision {database.current_revision(engine)}", highlight=False)
