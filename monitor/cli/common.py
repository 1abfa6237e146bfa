"""What every command shares: the app, common options, settings, database, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import Engine

from monitor.config import ConfigError, Settings, load_settings
from monitor.store import database
from monitor.watchlist.loader import WatchlistError, load_watchlists
from monitor.watchlist.schema import Watchlist

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    help="News monitoring: one alert per story, in any language.",
)
out = Console()
err = Console(stderr=True, soft_wrap=True)  # one problem, one line: tools grep them

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file.", envvar="MONITOR_CONFIG"),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL [env: MONITOR_DATABASE_URL; default: sqlite:///monitor.db].",
    ),
]
WatchlistsOption = Annotated[
    Path | None,
    typer.Option(
        "--watchlists",
        "-w",
        help="Watchlist folder or file [env: MONITOR_WATCHLISTS; default: ./watchlists].",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an operator-facing error; raise the returned Exit."""
    err.print(f"error: {message}", style="red", highlight=False, markup=False)
    return typer.Exit(code)


def settings_from(config: Path | None, **flags: Any) -> Settings:
    try:
        return load_settings(config, **flags)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def open_db(settings: Settings) -> Engine:
    try:
        return database.open_database(settings.database_url)
    except Exception as exc:
        raise fail(f"database {settings.database_url}: {exc}") from None


def watchlists_or_exit(settings: Settings) -> list[Watchlist]:
    """The watchlists, or every problem printed as file:line:column and exit 2."""
    try:
        return load_watchlists(settings.watchlists)
    except WatchlistError as exc:
        for problem in exc.problems:
            err.print(str(problem), style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
