"""The read model of `monitor status`: workers alive, what they hold, the alert backlog.

Field names are a contract, like monitor.store.queries: later versions add, never rename.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.store.models import Alert, Source, Worker, utcnow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _sources_held(session: Session, now: datetime) -> dict[str, int]:
    """Live source leases per worker."""
    rows = session.execute(
        select(Source.lease_owner, func.count())
        .where(col(Source.lease_owner).is_not(None), col(Source.lease_until) >= now)
        .group_by(col(Source.lease_owner))
    ).all()
    return {owner: count for owner, count in rows}


def status_json(session: Session, stale_after: timedelta) -> dict[str, Any]:
    now = utcnow()
    sources_held = _sources_held(session, now)
    workers = [
        {
            "id": w.id,
            "host": w.host,
            "pid": w.pid,
            "started": _iso(w.started),
            "last_seen": _iso(w.last_seen),
            "alive": w.last_seen >= now - stale_after,
            "sources": sources_held.get(w.id, 0),
        }
        for w in session.exec(select(Worker).order_by(col(Worker.started))).all()
    ]
    by_channel = dict(
        session.execute(
            select(Alert.channel, func.count())
            .where(Alert.state == "pending")
            .group_by(col(Alert.channel))
        ).all()
    )
    oldest = session.exec(select(func.min(Alert.created)).where(Alert.state == "pending")).one()
    failed = session.exec(select(func.count()).where(Alert.state == "failed")).one()
    # Handed to a channel under a delivery lease (monitor.alert.delivery), outcome not yet in.
    sending = session.exec(select(func.count()).where(Alert.state == "sending")).one()
    return {
        "workers": workers,
        "sources": {
            "total": session.exec(select(func.count()).select_from(Source)).one(),
            "held": sum(sources_held.values()),
        },
        "outbox": {
            "pending": sum(by_channel.values()),
            "pending_by_channel": by_channel,
            "sending": sending,
            "failed": failed,
            "oldest_pending": _iso(oldest),
            "oldest_pending_age_seconds": (now - oldest).total_seconds() if oldest else None,
        },
    }
