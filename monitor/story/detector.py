"""Streaming story detection: does this report join a story in the window, or start one?

For each report, in publication order:
1. a report whose folded text is already stored, or whose shingles a report in the window
   shares almost wholly (a wire copy), joins that report's story: cheap checks first;
2. candidate stories come from two indexes limited to the time window, never from a scan:
   the anchor index (folded names) in the database and the in-memory vector index;
3. a candidate story scores the mean of the report's pair scores with the story's reports in
   the window (average link: a story does not drift by chaining one near copy to the next);
4. the best story at or above the threshold wins, else the report starts a new story.

A pair scores ``cosine + anchor_weight × anchor similarity``; time is not a score but a hard
limit: the two reports' date ranges must come within the window. Dates are ranges, so an
estimated or unknown date never keeps a report out of a story by itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from datasketch import LeanMinHash
from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from monitor.config import StorySettings
from monitor.normalize.article import Article
from monitor.store.models import Item, StoryAnchor
from monitor.story.anchors import (
    DocumentFrequency,
    anchors,
    name_anchors,
)
from monitor.story.embedding import Vector
from monitor.story.timing import gap, time_range
from monitor.story.window import (
    COPY_JACCARD,
    HELD_COLUMNS,
    Held,
    WindowIndex,
    held_from_row,
    minhash,
    signature_from_bytes,
    signature_to_bytes,
)

__all__ = [
    "Decision",
    "Fingerprint",
    "Report",
    "StoryDetector",
    "build_report",
    "fingerprints",
    "name_anchors",
]

log = logging.getLogger(__name__)

_NEIGHBOURS = 20  # nearest vectors per shard
_CANDIDATE_STORIES = 10  # per index
_REPORTS_PER_STORY = 20  # the most recent ones in the window
_QUERY_ANCHORS = 16  # the rarest shared names of a report are enough to find its story
# A name in more reports than this ("Trump", "Berlin") finds nothing specific; capping it
# also caps the postings one lookup reads, whatever the store's size.
_COMMON_DOCS = 500
# Stories by shared rare names, most names first; statements built once (building one cost
# as much as running it).
_STORIES_BY_ANCHOR = (
    sa_select(col(StoryAnchor.story_id))
    .where(col(StoryAnchor.anchor).in_(bindparam("names", expanding=True)))
    .group_by(col(StoryAnchor.story_id))
    .order_by(func.count().desc(), col(StoryAnchor.story_id).desc())
    .limit(_CANDIDATE_STORIES)
)
_SAME_TEXT = (
    sa_select(col(Item.story_id))
    .where(col(Item.content_hash) == bindparam("hash"), col(Item.story_id).is_not(None))
    .limit(1)
)
_RECENT_STORIES_BY_ANCHOR = _STORIES_BY_ANCHOR.where(col(StoryAnchor.at) >= bindparam("lo"))
_RANKED = (
    sa_select(
        *HELD_COLUMNS,
        func.row_number()
        .over(partition_by=col(Item.story_id), order_by=col(Item.id).desc())
        .label("rank"),
    )
    .where(col(Item.story_id).in_(bindparam("stories", expanding=True)))
    .subquery()
)
_LATEST_REPORTS = (
    sa_select(_RANKED)
    .where(_RANKED.c.rank <= _REPORTS_PER_STORY)
    .order_by(_RANKED.c.story_id, _RANKED.c.id)
)


@dataclass(slots=True)
class Report:
    """What the detector needs of a report: time range, vector, anchors, shingle signature."""

    content_hash: str
    earliest: datetime | None  # None: no lower bound known
    latest: datetime
    vector: Vector | None
    anchors: frozenset[str]
    signature: LeanMinHash | None = None

    @property
    def span(self) -> tuple[datetime | None, datetime]:
        return self.earliest, self.latest


@dataclass(slots=True)
class Decision:
    story_id: int | None  # None: a new story
    score: float
    reason: str
    method: str = field(default="score")  # copy, wire, score, new


class Fingerprint(NamedTuple):
    """What story detection reads in a report's words: its names and numbers, and the
    MinHash signature of its shingles (as bytes). Words only, no database: the pipeline
    computes it beside the embedding, in the model's process."""

    anchors: frozenset[str]
    signature: bytes | None


def fingerprints(articles: list[Article]) -> list[Fingerprint]:
    found = []
    for article in articles:
        signature = minhash(article.title, article.text)
        found.append(
            Fingerprint(
                frozenset(anchors(article.title, article.text)),
                signature_to_bytes(signature) if signature is not None else None,
            )
        )
    return found


def build_report(
    article: Article, vector: Vector | None, fingerprint: Fingerprint, first_seen: datetime
) -> Report:
    earliest, latest = time_range(
        article.published, article.published_kind, first_seen, article.url
    )
    signature = fingerprint.signature
    return Report(
        article.content_hash,
        earliest,
        latest,
        vector,
        fingerprint.anchors,
        signature_from_bytes(signature) if signature is not None else None,
    )


class StoryDetector:
    def __init__(self, settings: StorySettings) -> None:
        self.settings = settings
        self.window = timedelta(days=settings.window_days)
        self.index = WindowIndex(self.window)
        self.frequencies = DocumentFrequency()

    def decide(self, session: Session, report: Report) -> Decision:
        copy = session.connection().execute(_SAME_TEXT, {"hash": report.content_hash}).scalar()
        if copy is not None:
            return Decision(copy, 1.0, "same text as a stored report", "copy")
        self.frequencies.count(session, report.anchors)
        lo = report.earliest - self.window if report.earliest is not None else None
        self.index.ensure(session, lo)
        wire = self._wire_copy(report)
        if wire is not None:
            return wire
        threshold = self.same_threshold(report)
        best = Decision(None, 0.0, "no story in the window", "new")
        stories = self.members(session, self._candidate_stories(session, report, lo))
        candidates = {
            story_id: self.window_members(report, members) for story_id, members in stories.items()
        }
        # one look-up for every anchor weight the scores below need
        self.frequencies.load(
            session, {a for ms in candidates.values() for m in ms for a in m.anchors}
        )
        for story_id, members in candidates.items():
            score = self.story_score(report, members)
            if score is not None and score > best.score:
                best = Decision(story_id, score, f"score {score:.2f}")
        if best.story_id is None or best.score < threshold:
            return Decision(None, best.score, f"best candidate scored {best.score:.2f}", "new")
        return best

    def remember(self, item_id: int, story_id: int, report: Report) -> None:
        """Hold a stored report in the window index (after its transaction committed)."""
        self.index.add(
            Held(
                item_id,
                story_id,
                report.earliest,
                report.latest,
                report.vector,
                report.anchors,
                report.signature,
            )
        )

    def same_threshold(self, report: Report) -> float:
        """The model's threshold, or the anchors-only one for a report without a vector."""
        if report.vector is None:
            return self.settings.anchors_only_same_threshold
        return self.settings.same_threshold

    def related_threshold(self, report: Report) -> float:
        if report.vector is None:
            return self.settings.anchors_only_related_threshold
        return self.settings.related_threshold

    def _wire_copy(self, report: Report) -> Decision | None:
        if report.signature is None:
            return None
        best: tuple[float, Held] | None = None
        for held in self.index.copies(report.signature):
            if held.signature is None or gap(report.span, held.span) > self.window:
                continue
            similarity = report.signature.jaccard(held.signature)
            if similarity >= COPY_JACCARD and (best is None or similarity > best[0]):
                best = (similarity, held)
        if best is None:
            return None
        return Decision(best[1].story_id, best[0], f"wire copy of item {best[1].item_id}", "wire")

    def _candidate_stories(
        self, session: Session, report: Report, lo: datetime | None
    ) -> list[int]:
        found: dict[int, None] = {}
        if report.vector is not None:
            nearest = sorted(self.index.search(report.vector, lo, _NEIGHBOURS), key=lambda n: -n[1])
            for held, _ in nearest:
                if len(found) >= _CANDIDATE_STORIES:
                    break
                found.setdefault(held.story_id)
        names = self.rarest_names(report.anchors)
        if names:
            query = _STORIES_BY_ANCHOR if lo is None else _RECENT_STORIES_BY_ANCHOR
            rows = session.connection().execute(query, {"names": names, "lo": lo})
            for (story_id,) in rows:
                found.setdefault(story_id)
        return list(found)

    def rarest_names(self, found: frozenset[str]) -> list[str]:
        """The report's names that can find a story: shared with others, yet not so common
        ("Trump", "Berlin") that they find everything; rarest first."""
        names = name_anchors(found)
        common = _COMMON_DOCS
        # the report itself is already counted: a name only it has finds nothing
        rare = [a for a in names if 2 <= self.frequencies.frequency(a) <= common]
        return sorted(rare, key=lambda a: (self.frequencies.frequency(a), a))[:_QUERY_ANCHORS]

    def window_members(self, report: Report, members: list[Held]) -> list[Held]:
        """A story's latest reports whose dates come within the window of the report's."""
        members = [m for m in members if gap(report.span, m.span) <= self.window]
        members = members[-_REPORTS_PER_STORY:]
        if report.vector is not None:
            members = [m for m in members if m.vector is not None] or members
        return members

    def story_score(self, report: Report, members: list[Held]) -> float | None:
        """Mean pair score with the story's reports (average link); None: no reports."""
        if not members:
            return None
        return sum(self.pair_score(report, m) for m in members) / len(members)

    def pair_score(self, report: Report, other: Held) -> float:
        """How likely two reports tell the same event."""
        a, b = report.anchors, other.anchors
        overlap = self.frequencies.similarity(a, b)
        if report.vector is None or other.vector is None:
            return overlap
        cosine = float(report.vector @ other.vector)
        if overlap == 0.0 and a and b:  # names and numbers on both sides, none shared
            cosine -= self.settings.disjoint_penalty
        return cosine + self.settings.anchor_weight * overlap

    def members(self, session: Session, story_ids: list[int]) -> dict[int, list[Held]]:
        """Stories' latest reports: from the window index, else (older stories) from the
        database, in one query for all of them."""
        found = {story_id: self.index.members(story_id) for story_id in story_ids}
        missing = [story_id for story_id, held in found.items() if not held]
        if not missing:
            return found
        for row in session.connection().execute(_LATEST_REPORTS, {"stories": missing}):
            held = held_from_row(row)
            found[held.story_id].append(held)
        return found
