"""`monitor export` and `monitor prune`: take items out as JSON lines, drop old items' bulk."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.common import ConfigOption, DatabaseOption, fail, open_db, out, settings_from
from monitor.export import export_jsonl
from monitor.store.retention import prune as prune_items


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command()(prune)


def export(
    file: Annotated[Path, typer.Argument(help="Output .jsonl file, or - for standard output.")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            help="Only items published (else first seen) at or after this UTC date or time.",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
        ),
    ] = None,
) -> None:
    """Write stored items as JSON lines that `monitor backfill` reads back."""
    engine = open_db(settings_from(config, database_url=database_url))
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    if str(file) == "-":
        export_jsonl(engine, sys.stdout, since)
        return
    partial = file.with_name(file.name + ".partial")  # a crash never leaves a short export
    try:
        with partial.open("w", encoding="utf-8") as handle:
            count = export_jsonl(engine, handle, since)
        os.replace(partial, file)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise fail(f"cannot write {file}: {exc.strerror or exc}") from None
    out.print(f"export: {count} items to {file}", highlight=False, markup=False)


def prune(
    older_than: Annotated[
        float, typer.Option(help="Age in days past which items are pruned.", min=0)
    ],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Drop the text and vectors of old items; their stories, titles and links stay."""
    engine = open_db(settings_from(config, database_url=database_url))
    count = prune_items(engine, timedelta(days=older_than))
    out.print(f"prune: {count} items older than {older_than:g} days", highlight=False)
