"""The daemon's one place that sends alerts: story alerts and operator notices.

Story alerts and their follow-ups go through monitor.alert.delivery on the configured
channels; operator alerts (route ``operator``: a source failing, gone dark, recovered) carry
a ready message and no story, so they are printed here on the console channel.
"""

from __future__ import annotations

import asyncio
import json

from rich.markup import escape
from rich.panel import Panel
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from monitor.alert.channels.console import ConsoleChannel
from monitor.alert.config import DeliveryConfig
from monitor.alert.delivery import deliver_due
from monitor.daemon.health import OPERATOR_ROUTE
from monitor.store.models import Alert, utcnow


async def deliver_alerts(engine: Engine, delivery: DeliveryConfig, console: ConsoleChannel) -> None:
    await deliver_due(engine, delivery.channels, retry=delivery.retry)
    await asyncio.to_thread(deliver_operator_notices, engine, console)


def deliver_operator_notices(engine: Engine, console: ConsoleChannel) -> int:
    """Print pending operator notices, each claimed first so that of several workers sharing
    the database only one prints it (compare-and-set on its state)."""
    sent = 0
    with Session(engine) as session:
        pending = session.exec(
            select(Alert.id)
            .where(Alert.state == "pending", Alert.channel == OPERATOR_ROUTE)
            .order_by(col(Alert.id))
        ).all()
        for alert_id in pending:
            claimed = session.connection().execute(
                update(Alert)
                .where(col(Alert.id) == alert_id, col(Alert.state) == "pending")
                .values(state="sending", attempts=col(Alert.attempts) + 1)
            )
            session.commit()
            if claimed.rowcount != 1:  # another worker has it
                continue
            alert = session.get(Alert, alert_id)
            assert alert is not None
            _print_notice(console, alert)
            alert.state, alert.delivered = "sent", utcnow()
            session.add(alert)
            session.commit()
            sent += 1
    return sent


def _print_notice(console: ConsoleChannel, alert: Alert) -> None:
    console.console.print(
        Panel(escape(alert.message or ""), title=f"OPERATOR {alert.rule}", expand=False)
    )
    if console.jsonl is not None:
        with console.jsonl.open("a", encoding="utf-8") as out:
            record = {
                "alert_id": alert.id,
                "operator": True,
                "rule": alert.rule,
                "source_id": alert.source_id,
                "message": alert.message,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
