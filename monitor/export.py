"""Export stored items as the JSON lines `monitor backfill` reads.

An export backfilled into an empty database gives the same items and stories: it carries
each item's text, title, language and outlet, and its publication time where that time is
known (from the source or a dateline). An estimated time is left out: it is only a lower
bound, which the backfill derives again from the same text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from monitor.store.models import Item, Source
from monitor.store.retention import ESTIMATES


def _clashing_ids(session: Session) -> set[str]:
    """External ids that two sources share: one backfill source would keep only one of them."""
    rows = session.exec(
        select(Item.external_id)
        .where(col(Item.external_id).is_not(None))
        .group_by(col(Item.external_id))
        .having(func.count(func.distinct(Item.source_id)) > 1)
    ).all()
    return {r for r in rows if r is not None}


def export_rows(session: Session, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Items in storage order, streamed; ``since`` keeps those published (else first seen) then."""
    clashing = _clashing_ids(session)
    query = (
        select(Item, Source).join(Source, col(Source.id) == Item.source_id).order_by(col(Item.id))
    )
    if since is not None:
        query = query.where(func.coalesce(Item.published, Item.first_seen) >= since)
    for item, source in session.exec(query.execution_options(yield_per=1000)):
        external_id = item.external_id
        if external_id in clashing:
            external_id = f"{source.key}#{external_id}"
        known = item.published is not None and item.published_kind not in ESTIMATES
        yield {
            "id": external_id,
            "url": item.url,
            "title": item.title,
            "text": item.text,
            "published": item.published.isoformat() if known and item.published else None,
            "language": item.language,
            "source": item.outlet or source.name,
        }


def export_jsonl(engine: Engine, out: TextIO, since: datetime | None = None) -> int:
    """Write items as JSON lines; returns how many."""
    count = 0
    with Session(engine) as session:
        for row in export_rows(session, since):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
