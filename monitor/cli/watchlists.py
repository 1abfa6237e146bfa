"""`monitor watchlists`: check watchlist files."""

from __future__ import annotations

import typer

from monitor.cli.common import (
    ConfigOption,
    WatchlistsOption,
    out,
    settings_from,
    watchlists_or_exit,
)
from monitor.watchlist.loader import watchlist_files

app = typer.Typer(no_args_is_help=True, help="Watchlist files.")


@app.command("check")
def check(config: ConfigOption = None, watchlists: WatchlistsOption = None) -> None:
    """Validate every watchlist file; one line per problem with file, line and column."""
    settings = settings_from(config, watchlists=watchlists)
    loaded = watchlists_or_exit(settings)
    files = watchlist_files(settings.watchlists)
    out.print(f"{len(files)} file(s), {len(loaded)} watchlist(s): ok", highlight=False)
