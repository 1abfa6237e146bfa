"""`monitor status`: which workers are alive, what they hold, and the alert backlog."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlmodel import Session

from monitor.cli.common import ConfigOption, DatabaseOption, JsonOption, open_db, out, settings_from
from monitor.store.status import status_json
from monitor.store.workers import STALE_AFTER


def register(app: typer.Typer) -> None:
    app.command()(status)


def status(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
    stale_after: Annotated[
        float, typer.Option(help="Seconds without a heartbeat after which a worker is dead.")
    ] = STALE_AFTER.total_seconds(),
) -> None:
    """Workers (heartbeats), the sources each holds, the outbox backlog."""
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        report = status_json(session, timedelta(seconds=stale_after))
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    table = Table("worker", "host", "pid", "started", "last seen", "state", "sources")
    for w in report["workers"]:
        table.add_row(
            *(Text(str(w[k])) for k in ("id", "host", "pid", "started", "last_seen")),
            Text("alive", "green") if w["alive"] else Text("dead", "red"),
            str(w["sources"]),
        )
    out.print(table if report["workers"] else "no workers have reported")
    sources, outbox = report["sources"], report["outbox"]
    out.print(f"sources: {sources['total']}, {sources['held']} leased to a worker", highlight=False)
    channels = ", ".join(f"{c} {n}" for c, n in sorted(outbox["pending_by_channel"].items()))
    line = f"outbox: {outbox['pending']} pending" + (f" ({channels})" if channels else "")
    if outbox["oldest_pending"]:
        age = timedelta(seconds=round(outbox["oldest_pending_age_seconds"]))
        line += f", oldest since {outbox['oldest_pending']} ({age} ago)"
    line += f", {outbox['sending']} being sent, {outbox['failed']} failed"
    out.print(line, highlight=False, markup=False)
