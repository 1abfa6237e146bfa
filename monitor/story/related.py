"""Earlier related stories: same actors or topic, not the same event, up to months back.

When the October 2025 coup report arrives, the February 2025 analysis of the same man's
persecution is an earlier related story; an alert links it as background.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.config import StorySettings
from monitor.store.models import Item, StoryAnchor
from monitor.story.detector import Report, name_anchors
from monitor.story.embedding import from_bytes

_CANDIDATES = 30
_MAX_LINKS = 5
# Stories that share fewer names than this are not related, whatever their vectors say.
MIN_SHARED_NAMES = 3


@dataclass(slots=True)
class Related:
    story_id: int
    score: float
    reason: str


def related_stories(
    session: Session, story_id: int, report: Report, settings: StorySettings
) -> list[Related]:
    """Earlier stories ranked by shared names, weighted by embedding similarity."""
    names = sorted(name_anchors(report.anchors))
    if not names:
        return []
    until: datetime = report.earliest or report.latest
    since = until - timedelta(days=settings.related_days)
    rows = session.exec(
        select(StoryAnchor.story_id, func.count())
        .where(
            col(StoryAnchor.anchor).in_(names),
            col(StoryAnchor.at) >= since,
            col(StoryAnchor.at) <= until,
            StoryAnchor.story_id != story_id,
        )
        .group_by(col(StoryAnchor.story_id))
        .having(func.count() >= MIN_SHARED_NAMES)
        .order_by(func.count().desc())
        .limit(_CANDIDATES)
    ).all()
    found = []
    for other_id, shared in rows:
        similarity = _similarity(session, other_id, report)
        if similarity is not None and similarity < settings.related_threshold:
            continue
        score = shared / len(names) * (similarity if similarity is not None else 1.0)
        found.append(Related(other_id, score, f"{shared} names in common"))
    found.sort(key=lambda r: r.score, reverse=True)
    return found[:_MAX_LINKS]


def _similarity(session: Session, story_id: int, report: Report) -> float | None:
    if report.vector is None:
        return None
    blobs = session.exec(
        select(Item.embedding)
        .where(Item.story_id == story_id, col(Item.embedding).is_not(None))
        .limit(5)
    ).all()
    if not blobs:
        return None
    return max(float(np.dot(from_bytes(b), report.vector)) for b in blobs if b)
