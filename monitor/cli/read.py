"""`monitor stories`: read the database, as a table or JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from monitor.cli.common import ConfigOption, DatabaseOption, JsonOption, open_db, out, settings_from
from monitor.store.queries import stories_json


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
