"""`monitor stories` and `monitor alerts`: read the database, as tables or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from monitor.cli.common import ConfigOption, DatabaseOption, JsonOption, open_db, out, settings_from
from monitor.store.queries import alerts_json, stories_json


def register(app: typer.Typer) -> None:
    # `stories` is the callback of the `monitor stories` group (monitor/cli/stories_admin.py).
    app.command()(alerts)


def stories(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int | None, typer.Option(help="Newest N stories only.")] = None,
) -> None:
    """List stories, newest first, with their sources and matches."""
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        rows = stories_json(session, limit)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "published", "langs", "title", "sources", "matched", "related")
    for s in rows:
        matched = sorted({f"{m['name']}" for m in s["matches"]})
        table.add_row(
            str(s["id"]),
            (s["published"] or "")[:10],
            ",".join(s["languages"]),
            s["title"],
            "\n".join(f"{i['language'] or '??'} {i['source']}" for i in s["items"]),
            ", ".join(matched),
            ", ".join(map(str, s["related"])),
        )
    out.print(table)


def alerts(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only permanently failed alerts.")
    ] = False,
) -> None:
    """List alerts with their delivery state."""
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        rows = alerts_json(session, "failed" if failed else None)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(
        "id", "story", "watchlist", "rule", "channel", "state", "attempts", "created", "error"
    )
    for a in rows:
        table.add_row(
            str(a["id"]),
            str(a["story_id"]),
            a["watchlist"],
            a["rule"],
            a["channel"],
            a["state"],
            str(a["attempts"]),
            (a["created"] or "")[:19],
            a["last_error"] or "",
        )
    out.print(table)
