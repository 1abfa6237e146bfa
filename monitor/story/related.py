"""Earlier related stories: same actors or topic, not the same event, up to months back.

When the October 2025 coup report arrives, the February 2025 analysis of the same man's
persecution is an earlier related story; an alert links it as background. Candidates come
from the anchor index (shared names, no time window); each is scored like a story, by its
closest report, and must reach the related threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlmodel import Session, col

from monitor.store.models import StoryAnchor
from monitor.story.detector import Report, StoryDetector

_CANDIDATES = 30
_MAX_LINKS = 5
# Sharing one name (a country, a capital) is not enough to call two stories related.
MIN_SHARED_NAMES = 2
# Other stories naming at least MIN_SHARED_NAMES of the names in a time range, most first;
# built once (building it cost more than running it).
_SHARING_NAMES = (
    select(col(StoryAnchor.story_id), func.count())
    .where(
        col(StoryAnchor.anchor).in_(bindparam("names", expanding=True)),
        col(StoryAnchor.at) >= bindparam("since"),
        col(StoryAnchor.at) <= bindparam("until"),
        col(StoryAnchor.story_id) != bindparam("story"),
    )
    .group_by(col(StoryAnchor.story_id))
    .having(func.count() >= MIN_SHARED_NAMES)
    .order_by(func.count().desc(), col(StoryAnchor.story_id).desc())
    .limit(_CANDIDATES)
)


@dataclass(slots=True)
class Related:
    story_id: int
    score: float
    reason: str


def related_stories(
    session: Session, story_id: int, report: Report, detector: StoryDetector
) -> list[Related]:
    """Earlier stories sharing names with the report, best first."""
    # Names as rare as story candidates are: a name in hundreds of reports ("Berlin") relates
    # nothing, and its postings over ``related_days`` grow with the store.
    names = detector.rarest_names(report.anchors)
    if len(names) < MIN_SHARED_NAMES:
        return []
    until: datetime = report.latest
    since = (report.earliest or report.latest) - timedelta(days=detector.settings.related_days)
    values = {"names": names, "since": since, "until": until, "story": story_id}
    rows = session.connection().execute(_SHARING_NAMES, values).all()
    threshold = detector.related_threshold(report)
    stories = detector.members(session, [other for other, _ in rows])
    candidates = [(other, shared, stories[other]) for other, shared in rows]
    anchors = {a for _, _, members in candidates for m in members for a in m.anchors}
    detector.frequencies.load(session, anchors)  # one look-up for every weight below
    found = []
    for other_id, shared, members in candidates:
        if not members:
            continue
        score = max(detector.pair_score(report, m) for m in members)
        if score >= threshold:
            found.append(Related(other_id, score, f"{shared} names in common, score {score:.2f}"))
    found.sort(key=lambda r: r.score, reverse=True)
    return found[:_MAX_LINKS]
