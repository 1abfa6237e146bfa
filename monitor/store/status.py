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


def _held(session: Session, model: Any, now: datetime) -> dict[str, int]:
    """Live leases per owner on a claimable table."""
    rows = session.execute(
        select(model.lease_owner, func.count())
        .where(col(model.lease_owner).is_not(None), col(model.lease_until) >= now)
        .group_by(model.lease_owner)
    ).all()
    return {owner: count for owner, count in rows}


def status_json(session: Session, stale_after: timedelta) -> dict[str, Any]:
    now = utcnow()
    # Source leases belong to the daemon's scheduler; without them there is nothing held.
    sources_held = _held(session, Source, now) if hasattr(Source, "lease_owner") else {}
    alerts_held = _held(session, Alert, now)
    workers = [
        {
            "id": w.id,
            "host": w.host,
            "pid": w.pid,
            "started": _iso(w.started),
            "last_seen": _iso(w.last_seen),
            "alive": w.last_seen >= now - stale_after,
            "sources": sources_held.get(w.id, 0),
            "alerts": alerts_held.get(w.id, 0),
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
    return {
        "workers": workers,
        "sources": {
            "total": session.exec(select(func.count()).select_from(Source)).one(),
            "held": sum(sources_held.values()),
        },
        "outbox": {
            "pending": sum(by_channel.values()),
            "pending_by_channel": by_channel,
            "failed": failed,
            "oldest_pending": _iso(oldest),
            "oldest_pending_age_seconds": (now - oldest).total_seconds() if oldest else None,
        },
    }
