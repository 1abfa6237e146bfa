"""Streaming story detection: does this report join a story in the window, or start one?

For each report, in publication order:
1. a report whose folded text is already stored joins that report's story (wire copies);
2. candidates come from two indexes limited to the time window, never from a scan: the
   anchor index (folded names, numbers) in the database, and the in-memory vector index;
3. each candidate story is scored against the report by its closest reports;
4. the best story at or above ``same_threshold`` wins, else the report starts a new story.

Dates are ranges, not points: a report with an estimated date (a lower bound) or none at all
is never kept out of a story by its date alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.config import StorySettings
from monitor.store.models import Item, StoryAnchor
from monitor.story.embedding import Vector, from_bytes
from monitor.story.timing import time_range
from monitor.story.window import WindowIndex

# A report with an estimated date is searched for by vector this far past its lower bound;
# the anchor index covers the rest of its range.
_ESTIMATE_SPAN = timedelta(days=21)
_CANDIDATE_STORIES = 20
_REPORTS_PER_STORY = 20
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Report:
    """What the detector needs of a report: time range, vector, anchors."""

    content_hash: str
    earliest: datetime | None  # None: no lower bound known
    latest: datetime
    vector: Vector | None
    anchors: set[str]


@dataclass(slots=True)
class Decision:
    story_id: int | None  # None: a new story
    score: float
    reason: str


def name_anchors(anchors: set[str]) -> set[str]:
    return {a for a in anchors if a.startswith("n:")}


def anchor_overlap(a: set[str], b: set[str]) -> float:
    """Shared names relative to the smaller set's size, damped for tiny sets."""
    names_a, names_b = name_anchors(a), name_anchors(b)
    if not names_a or not names_b:
        return 0.0
    shared = len(names_a & names_b)
    return shared / math.sqrt(len(names_a) * len(names_b))


def pair_score(report: Report, vector: Vector | None, anchors: set[str]) -> float:
    """How likely two reports tell the same event, 0..1."""
    overlap = anchor_overlap(report.anchors, anchors)
    if report.vector is None or vector is None:
        return overlap
    similarity = float(np.dot(report.vector, vector))
    return 0.8 * similarity + 0.2 * min(1.0, 2 * overlap)


class StoryDetector:
    def __init__(self, settings: StorySettings) -> None:
        self.settings = settings
        self.window = timedelta(days=settings.window_days)
        self.index = WindowIndex(self.window)

    def decide(self, session: Session, report: Report) -> Decision:
        copy = session.exec(
            select(Item.story_id).where(
                Item.content_hash == report.content_hash, col(Item.story_id).is_not(None)
            )
        ).first()
        if copy is not None:
            return Decision(copy, 1.0, "same text as a stored report")
        candidates = self._candidate_stories(session, report)
        best = Decision(None, 0.0, "no story in the window")
        for story_id in candidates:
            score = self._story_score(session, report, story_id)
            if score > best.score:
                best = Decision(story_id, score, f"score {score:.2f}")
        if best.story_id is None or best.score < self.settings.same_threshold:
            return Decision(None, best.score, f"best candidate scored {best.score:.2f}")
        return best

    def _candidate_stories(self, session: Session, report: Report) -> list[int]:
        lo = (report.earliest or _EARLIEST) - self.window
        hi = report.latest + self.window
        names = sorted(name_anchors(report.anchors))
        found: dict[int, float] = {}
        if names:
            rows = session.exec(
                select(StoryAnchor.story_id, func.count())
                .where(col(StoryAnchor.anchor).in_(names), col(StoryAnchor.at) >= lo)
                .group_by(col(StoryAnchor.story_id))
                .order_by(func.count().desc())
                .limit(_CANDIDATE_STORIES)
            ).all()
            found.update((story_id, float(count)) for story_id, count in rows)
        if report.vector is not None and report.earliest is not None:
            vector_hi = min(hi, report.earliest + _ESTIMATE_SPAN + self.window)
            for neighbour in self.index.search(session, report.vector, lo, vector_hi):
                found.setdefault(neighbour.story_id, 0.0)
        return list(found)

    def _story_score(self, session: Session, report: Report, story_id: int) -> float:
        """The best pair score between the report and the story's reports in the window."""
        lo = (report.earliest or _EARLIEST) - self.window
        hi = report.latest + self.window
        columns = (
            Item.embedding,
            Item.anchors,
            Item.published,
            Item.published_kind,
            Item.first_seen,
        )
        rows = session.execute(
            sa_select(*(col(c) for c in columns))
            .where(col(Item.story_id) == story_id)
            .order_by(col(Item.id).desc())
            .limit(_REPORTS_PER_STORY)
        ).all()
        best = 0.0
        for blob, anchors, published, kind, first_seen in rows:
            earliest, latest = time_range(published, kind, first_seen)
            if (earliest is not None and earliest > hi) or latest < lo:
                continue  # ranges do not meet within the window
            vector = from_bytes(blob) if blob else None
            best = max(best, pair_score(report, vector, set(anchors.split())))
        return best
