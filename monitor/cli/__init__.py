"""The `monitor` command line: one module per command group, registered here."""

from __future__ import annotations

import logging
import sys

from monitor.cli import backfill, db, eval, read, watchlists
from monitor.cli.common import app

backfill.register(app)
read.register(app)
app.add_typer(db.app, name="db")
app.add_typer(eval.app, name="eval")
app.add_typer(watchlists.app, name="watchlists")


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    app()
