"""`monitor alerts`: the outbox for operators: list, retry, deliver, send a test."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.alert.config import ChannelConfigError, DeliveryConfig, load_delivery
from monitor.alert.delivery import DeliveryStats, deliver_due, next_due, send_test
from monitor.alert.outbox import RetryRefused, retry_alert
from monitor.cli.common import (
    ConfigOption,
    DatabaseOption,
    JsonOption,
    fail,
    open_db,
    out,
    settings_from,
)
from monitor.store.models import utcnow
from monitor.store.queries import alerts_json

app = typer.Typer(
    invoke_without_command=True, no_args_is_help=False, help="Alerts and their delivery."
)
ChannelsOption = Annotated[
    Path | None,
    typer.Option(
        "--channels", help="Channels file [env: MONITOR_CHANNELS; default: ./channels.yaml]."
    ),
]


def delivery_or_exit(config: Path | None, channels: Path | None) -> DeliveryConfig:
    settings = settings_from(config, channels=channels)
    try:
        return load_delivery(settings.channels)
    except ChannelConfigError as exc:
        raise fail(str(exc)) from None


@app.callback()
def alerts(
    ctx: typer.Context,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only permanently failed alerts.")
    ] = False,
) -> None:
    """List alerts with their delivery state (or run a subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
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


@app.command("retry")
def retry(
    alert_id: Annotated[int, typer.Argument(metavar="ID", help="The alert's id.")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Queue a failed (or backfill-recorded) alert again, with its follow-ups."""
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        try:
            alert = retry_alert(session, alert_id)
        except RetryRefused as exc:
            raise fail(str(exc)) from None
        out.print(f"alert {alert.id} queued for {alert.channel}", highlight=False, markup=False)


@app.command("send-test")
def send_test_command(
    channel: Annotated[str, typer.Argument(metavar="CHANNEL", help="A channel's name.")],
    config: ConfigOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Send a test message through one channel and print the provider's id."""
    delivery = delivery_or_exit(config, channels)
    if channel not in delivery.channels:
        raise fail(f"no channel {channel!r}; known: {', '.join(sorted(delivery.channels))}")
    try:
        provider_id = asyncio.run(send_test(delivery.channels[channel]))
    except Exception as exc:
        raise fail(f"{channel}: {exc}", code=1) from None
    out.print(f"{channel}: sent ({provider_id})", highlight=False, markup=False)


@app.command("deliver")
def deliver(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    channels: ChannelsOption = None,
    until_done: Annotated[
        bool,
        typer.Option("--until-done", help="Keep going through retries until nothing is left."),
    ] = False,
    max_wait: Annotated[
        float, typer.Option(help="With --until-done: stop when the next retry is further off.")
    ] = 300.0,
) -> None:
    """Deliver the alerts that are due now, as the daemon does."""
    settings = settings_from(config, database_url=database_url, channels=channels)
    delivery = delivery_or_exit(config, channels)
    engine = open_db(settings)
    stats = asyncio.run(_deliver(engine, delivery, until_done, timedelta(seconds=max_wait)))
    out.print(f"deliver: {stats.summary()}", highlight=False, markup=False)


async def _deliver(
    engine: Engine, delivery: DeliveryConfig, until_done: bool, max_wait: timedelta
) -> DeliveryStats:
    total = DeliveryStats()
    try:
        while True:
            total.add(await deliver_due(engine, delivery.channels, retry=delivery.retry))
            due = next_due(engine, list(delivery.channels))
            if not until_done or due is None or due - utcnow() > max_wait:
                return total
            await asyncio.sleep(max(0.01, (due - utcnow()).total_seconds()))
    finally:
        for channel in delivery.channels.values():
            await channel.aclose()
