"""The `monitor` command line: one module per command group, registered here."""

from __future__ import annotations

import logging
import sys

from monitor.cli import (
    alerts,
    backfill,
    db,
    eval,
    retention,
    run,
    serve,
    sources,
    status,
    stories_admin,
    watchlists,
)
from monitor.cli.common import app

backfill.register(app)
run.register(app)
status.register(app)
retention.register(app)
app.add_typer(alerts.app, name="alerts")
app.add_typer(sources.app, name="sources")
app.add_typer(db.app, name="db")
app.add_typer(stories_admin.app, name="stories")
serve.register(app)
app.add_typer(eval.app, name="eval")
app.add_typer(watchlists.app, name="watchlists")
app.add_typer(sources.app, name="sources")


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    app()
