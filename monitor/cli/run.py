"""`monitor run`: the polling daemon."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from monitor.alert.channels.console import ConsoleChannel
from monitor.alert.config import ChannelConfigError, load_delivery
from monitor.cli.common import (
    ConfigOption,
    DatabaseOption,
    WatchlistsOption,
    err,
    fail,
    open_db,
    settings_from,
    watchlists_or_exit,
)
from monitor.config import Settings
from monitor.daemon.service import Daemon
from monitor.normalize.dates import zone
from monitor.pipeline import Pipeline
from monitor.sources.config import SourceConfig, SourcesError, load_sources
from monitor.story.embedding import load_embedder

SourcesOption = Annotated[
    Path | None,
    typer.Option(
        "--sources", "-s", help="Sources file or folder [default: daemon.sources, sources.yaml]."
    ),
]


def register(app: typer.Typer) -> None:
    app.command()(run)


def daemon_settings(config: Path | None, sources: Path | None, **flags: object) -> Settings:
    settings = settings_from(config, **flags)
    if sources is not None:
        settings.daemon = settings.daemon.model_copy(update={"sources": sources})
    return settings


def sources_or_exit(location: Path) -> list[SourceConfig]:
    try:
        return load_sources(location)
    except SourcesError as exc:
        for problem in exc.problems:
            err.print(str(problem), style="red", highlight=False, markup=False)
        raise typer.Exit(2) from None


def run(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    watchlists: WatchlistsOption = None,
    sources: SourcesOption = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus /metrics on this port.")
    ] = None,
    alerts_jsonl: Annotated[
        Path | None,
        typer.Option("--alerts-jsonl", help="Append alerts to this file as JSON lines."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No alert panels on stdout.")
    ] = False,
) -> None:
    """Poll the sources until SIGTERM or Ctrl-C; alert on new matching stories."""
    settings = daemon_settings(config, sources, database_url=database_url, watchlists=watchlists)
    if metrics_port is not None:
        settings.daemon = settings.daemon.model_copy(update={"metrics_port": metrics_port})
    loaded = watchlists_or_exit(settings)
    configs = sources_or_exit(settings.daemon.sources)
    try:
        zone(settings.timezone)
    except Exception:
        raise fail(f"unknown time zone {settings.timezone!r}") from None
    logging.getLogger("monitor").setLevel(logging.INFO)
    engine = open_db(settings)
    pipeline = Pipeline(
        engine, settings.story, loaded, load_embedder(settings.story.model, own_process=True), True
    )
    console = ConsoleChannel(Console(quiet=quiet), alerts_jsonl)
    try:
        delivery = load_delivery(settings.channels, console)
    except ChannelConfigError as exc:
        raise fail(str(exc)) from None
    daemon = Daemon(settings, engine, pipeline, console, delivery=delivery)
    asyncio.run(_serve(daemon, configs))


async def _serve(daemon: Daemon, configs: list[SourceConfig]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    async with daemon:
        await asyncio.to_thread(daemon.use_sources, configs)
        logging.getLogger(__name__).info("monitor run: %d sources", len(configs))
        await daemon.run(stop)
    logging.getLogger(__name__).info("monitor run: stopped")
