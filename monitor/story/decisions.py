"""Analyst decisions on stories: mute, split a report out, merge two stories.

The machine proposes stories; an analyst has the last word. Each decision changes the rows
(so the pipeline, the pages and the API all see it at once) and leaves a ``StoryDecision``
record. Later reports respect it: a muted story raises no alerts, a report that would join a
merged story joins the story it was merged into, and a split report's copies follow it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.store.models import (
    Alert,
    Item,
    Match,
    Story,
    StoryAnchor,
    StoryDecision,
    StoryLink,
    utcnow,
)
from monitor.story.detector import name_anchors
from monitor.story.timing import time_range


class DecisionError(Exception):
    """A decision that cannot be made (merging a story into itself, splitting a lone report)."""


class NotFound(DecisionError):
    """No such story or report."""


def live_story(session: Session, story_id: int, lock: bool = False) -> Story:
    """The story an id stands for now, following merges; ``lock``: FOR UPDATE (PostgreSQL)."""
    story = session.get(Story, live_story_id(session, story_id, lock), with_for_update=lock)
    assert story is not None
    return story


def live_story_id(session: Session, story_id: int, lock: bool = False) -> int:
    """The id of ``live_story``, by plain statements: the pipeline's hot path follows merges
    here without the ORM's identity map, which cost more than the look-up itself."""
    query = _STORY_LINK.with_for_update() if lock else _STORY_LINK
    connection = session.connection()
    row = connection.execute(query, {"id": story_id}).first()
    seen = set()
    while row is not None and row.merged_into is not None and row.id not in seen:
        seen.add(row.id)
        row = connection.execute(query, {"id": row.merged_into}).first()
    if row is None:
        raise NotFound(f"no story {story_id}")
    return int(row.id)


_STORY_LINK = sa_select(col(Story.id), col(Story.merged_into)).where(
    col(Story.id) == bindparam("id")
)


def mute(session: Session, story_id: int, muted: bool = True, actor: str = "") -> Story:
    """No more alerts for this story; alerts not yet sent are withdrawn (state ``muted``)."""
    story = live_story(session, story_id)
    story.muted = muted
    session.add(story)
    if muted:
        session.execute(
            update(Alert)
            .where(col(Alert.story_id) == story.id, col(Alert.state) == "pending")
            .values(state="muted")
        )
    assert story.id is not None
    _record(session, "mute" if muted else "unmute", story.id, actor=actor)
    session.commit()
    return story


def split(session: Session, item_id: int, actor: str = "") -> Story:
    """Move one report out of its story into a story of its own; returns the new story."""
    item = session.get(Item, item_id)
    if item is None or item.story_id is None:
        raise NotFound(f"no report {item_id}")
    old = live_story(session, item.story_id)
    if old.item_count <= 1:
        raise DecisionError(f"report {item_id} is the only report of story {old.id}")
    new = Story(title=item.title, first_published=item.published, last_published=item.published)
    session.add(new)
    session.flush()
    assert new.id is not None and old.id is not None and item.id is not None
    item.story_id = new.id
    session.add(item)
    session.execute(update(Match).where(col(Match.item_id) == item.id).values(story_id=new.id))
    session.flush()
    _refresh(session, old)
    _refresh(session, new)
    _record(session, "split", old.id, item_id=item.id, other=new.id, actor=actor)
    session.commit()
    return new


def merge(session: Session, into_id: int, other_id: int, actor: str = "") -> Story:
    """Fold story ``other_id`` into ``into_id``: its reports, matches, links and alerts."""
    into, other = live_story(session, into_id), live_story(session, other_id)
    if into.id == other.id:
        raise DecisionError(f"stories {into_id} and {other_id} are already one story")
    assert into.id is not None and other.id is not None
    for model in (Item, Match):
        session.execute(
            update(model).where(col(model.story_id) == other.id).values(story_id=into.id)
        )
    _move_alerts(session, other.id, into.id)
    _move_links(session, other.id, into.id)
    other.merged_into, other.item_count = into.id, 0
    into.muted = into.muted or other.muted
    session.add_all([other, into])
    session.flush()
    _refresh(session, into)
    session.execute(delete(StoryAnchor).where(col(StoryAnchor.story_id) == other.id))
    _record(session, "merge", into.id, other=other.id, actor=actor)
    session.commit()
    return into


def _move_alerts(session: Session, source: int, target: int) -> None:
    """Alerts follow the merge unless the target already has the same route."""
    taken = {
        (a.watchlist, a.rule, a.channel)
        for a in session.exec(select(Alert).where(Alert.story_id == target)).all()
    }
    for alert in session.exec(select(Alert).where(Alert.story_id == source)).all():
        if (alert.watchlist, alert.rule, alert.channel) not in taken:
            alert.story_id = target
            session.add(alert)


def _move_links(session: Session, source: int, target: int) -> None:
    links = session.exec(
        select(StoryLink).where(
            (col(StoryLink.story_id) == source) | (col(StoryLink.related_id) == source)
        )
    ).all()
    existing = {
        (link.story_id, link.related_id)
        for link in session.exec(
            select(StoryLink).where(
                (col(StoryLink.story_id) == target) | (col(StoryLink.related_id) == target)
            )
        ).all()
    }
    for link in links:
        pair = (
            target if link.story_id == source else link.story_id,
            target if link.related_id == source else link.related_id,
        )
        session.delete(link)
        if pair[0] != pair[1] and pair not in existing:
            existing.add(pair)
            session.add(
                StoryLink(
                    story_id=pair[0], related_id=pair[1], score=link.score, reason=link.reason
                )
            )
    session.flush()


def _refresh(session: Session, story: Story) -> None:
    """Recompute a story's counts, dates and anchor index from the reports it now holds."""
    items = session.exec(select(Item).where(Item.story_id == story.id)).all()
    dates = [i.published for i in items if i.published is not None]
    story.item_count = len(items)
    story.first_published = min(dates, default=None)
    story.last_published = max(dates, default=None)
    story.updated_at = utcnow()
    session.add(story)
    session.execute(delete(StoryAnchor).where(col(StoryAnchor.story_id) == story.id))
    latest: dict[str, datetime] = {}
    for item in items:
        _, at = time_range(item.published, item.published_kind, item.first_seen)
        for anchor in name_anchors(set(item.anchors.split())):
            latest[anchor] = max(at, latest.get(anchor, at))
    assert story.id is not None
    session.add_all(StoryAnchor(story_id=story.id, anchor=a, at=at) for a, at in latest.items())
    session.flush()


def _record(
    session: Session,
    action: str,
    story_id: int,
    item_id: int | None = None,
    other: int | None = None,
    actor: str = "",
) -> None:
    session.add(
        StoryDecision(
            action=action, story_id=story_id, item_id=item_id, other_story_id=other, actor=actor
        )
    )


def decisions_for(session: Session, story_id: int) -> list[StoryDecision]:
    return list(
        session.exec(
            select(StoryDecision)
            .where(
                (col(StoryDecision.story_id) == story_id)
                | (col(StoryDecision.other_story_id) == story_id)
            )
            .order_by(col(StoryDecision.id))
        ).all()
    )
