"""Retention: old items give up their bulk (text, vector), their stories stay as summaries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, and_, or_, update
from sqlmodel import Session, col, select

from monitor.store.models import Item, utcnow

# Publication kinds that are only a lower bound (or nothing): age is then when first seen.
ESTIMATES = ("estimated", "unknown")
_PRUNE_BATCH = 5000


def prune(engine: Engine, older_than: timedelta) -> int:
    """Drop the text, vector and anchors of items older than ``older_than``; returns how many.

    The rows stay: their stories keep a summary (titles, links, languages, outlets, matches,
    alerts), and a feed that still lists an old entry finds it stored and does not alert
    again. Age is the publication time where known, else when the item was first seen.
    Batches keep each transaction short, so a running daemon is never held up for long.
    """
    cutoff = utcnow() - older_than
    old = or_(
        and_(col(Item.published_kind).not_in(ESTIMATES), col(Item.published) < cutoff),
        and_(
            or_(col(Item.published_kind).in_(ESTIMATES), col(Item.published).is_(None)),
            col(Item.first_seen) < cutoff,
        ),
    )
    unpruned = or_(col(Item.text) != "", col(Item.embedding).is_not(None))
    pruned = 0
    with Session(engine) as session:
        while ids := session.exec(
            select(Item.id).where(old, unpruned).order_by(col(Item.id)).limit(_PRUNE_BATCH)
        ).all():
            session.execute(
                update(Item)
                .where(col(Item.id).in_(ids))
                .values(text="", embedding=None, anchors="")
            )
            session.commit()
            pruned += len(ids)
    return pruned
