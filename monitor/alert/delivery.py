"""Send pending outbox rows through their channels; mark sent only after the channel accepted."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.alert.briefing import briefing
from monitor.alert.channels import Channel, PermanentError
from monitor.store.models import Alert, utcnow

log = logging.getLogger(__name__)


def deliver_pending(engine: Engine, channels: dict[str, Channel]) -> tuple[int, int]:
    """Deliver every pending alert whose channel is configured here; returns (sent, failed)."""
    sent = failed = 0
    with Session(engine) as session:
        pending = session.exec(
            select(Alert)
            .where(Alert.state == "pending", col(Alert.channel).in_(list(channels)))
            .order_by(col(Alert.id))
        ).all()
        for alert in pending:
            channel = channels[alert.channel]
            alert.attempts += 1
            try:
                alert.provider_id = channel.send(briefing(session, alert))
            except PermanentError as exc:
                alert.state, alert.last_error = "failed", str(exc)
                failed += 1
            except Exception as exc:  # a transient failure: stays pending, retried later
                alert.last_error = str(exc)
                log.warning("alert %s to %s failed: %s", alert.id, alert.channel, exc)
                failed += 1
            else:
                alert.state, alert.delivered, alert.last_error = "sent", utcnow(), None
                sent += 1
            session.add(alert)
            session.commit()
    return sent, failed
