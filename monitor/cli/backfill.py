"""`monitor backfill`: push a corpus through the same pipeline as live polling."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from monitor.alert.channels.console import ConsoleChannel
from monitor.alert.config import ChannelConfigError, load_delivery
from monitor.alert.delivery import deliver_due
from monitor.backfill import prepare, read_targets, run_backfill
from monitor.cli.common import (
    ConfigOption,
    DatabaseOption,
    WatchlistsOption,
    err,
    fail,
    open_db,
    out,
    settings_from,
    watchlists_or_exit,
)
from monitor.normalize.dates import zone
from monitor.pipeline import Pipeline
from monitor.story.embedding import load_embedder


def register(app: typer.Typer) -> None:
    app.command()(backfill)


def backfill(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="Folders, files (.txt .html .xml .json .jsonl) or feed URLs.",
            metavar="PATH_OR_URL...",
        ),
    ],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    watchlists: WatchlistsOption = None,
    timezone: Annotated[
        str | None, typer.Option(help="Time zone of datelines that carry none [default: UTC].")
    ] = None,
    deliver: Annotated[
        bool, typer.Option("--deliver", help="Also push alerts to external channels.")
    ] = False,
    channels: Annotated[
        Path | None,
        typer.Option(
            "--channels", help="Channels file [env: MONITOR_CHANNELS; default: ./channels.yaml]."
        ),
    ] = None,
    alerts_jsonl: Annotated[
        Path | None,
        typer.Option("--alerts-jsonl", help="Append alerts to this file as JSON lines."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")] = False,
) -> None:
    """Push a corpus through the pipeline: stories, watchlist matches, alerts."""
    settings = settings_from(
        config,
        database_url=database_url,
        watchlists=watchlists,
        timezone=timezone,
        channels=channels,
    )
    loaded = watchlists_or_exit(settings)  # a broken watchlist stops us before any change
    console_channel = ConsoleChannel(Console(quiet=quiet), alerts_jsonl)
    try:  # without --deliver only the console: recorded alerts wait for an operator
        delivery = load_delivery(settings.channels if deliver else None, console_channel)
    except ChannelConfigError as exc:
        raise fail(str(exc)) from None
    try:
        tz = zone(settings.timezone)
    except Exception:
        raise fail(f"unknown time zone {settings.timezone!r}") from None
    engine = open_db(settings)
    batches = read_targets(targets)
    corpus = prepare(engine, batches, tz)
    pipeline = Pipeline(
        engine,
        settings.story,
        loaded,
        load_embedder(settings.story.model, own_process=True),
        deliver,
    )
    with Progress(
        TextColumn("backfill"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    ) as progress:
        task = progress.add_task("items", total=len(corpus.incoming))
        stats = run_backfill(pipeline, corpus, lambda n: progress.advance(task, n))
    sent = asyncio.run(deliver_due(engine, delivery.channels, retry=delivery.retry))
    for problem in corpus.problems:
        err.print(
            f"could not read {problem.where}: {problem.reason}",
            style="yellow",
            highlight=False,
            markup=False,
        )
    if not quiet:
        for warning in corpus.warnings:
            err.print(
                f"warning: {warning.where}: {warning.reason}",
                style="dim",
                highlight=False,
                markup=False,
            )
    out.print(f"backfill: {stats.summary()}", highlight=False, markup=False, soft_wrap=True)
    if deliver:
        out.print(f"deliver: {sent.summary()}", highlight=False, markup=False, soft_wrap=True)
