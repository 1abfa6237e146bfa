"""`monitor serve`: the operator console (web pages and JSON API) over the database."""

from __future__ import annotations

from typing import Annotated

import typer
from aiohttp import web

from monitor.cli.common import (
    ConfigOption,
    DatabaseOption,
    WatchlistsOption,
    fail,
    open_db,
    out,
    settings_from,
)
from monitor.web import make_app
from monitor.web.security import Access, check_bind


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    watchlists: WatchlistsOption = None,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. Anything but loopback needs MONITOR_WEB_TOKEN, or "
            "MONITOR_WEB_USER and MONITOR_WEB_PASSWORD.",
            envvar="MONITOR_WEB_HOST",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", envvar="MONITOR_WEB_PORT")] = 8080,
) -> None:
    """Serve the console: stories, alerts, sources, watchlists, and the API under /api/."""
    settings = settings_from(config, database_url=database_url, watchlists=watchlists)
    access = Access.from_env()
    try:
        check_bind(host, access)
    except ValueError as exc:
        raise fail(str(exc)) from None
    engine = open_db(settings)
    shown = f"[{host}]" if ":" in host else host
    out.print(f"monitor console on http://{shown}:{port}/", highlight=False, markup=False)
    web.run_app(make_app(engine, settings, access), host=host, port=port, print=None)
