"""What an alert says, as plain data read from the database: one view for every channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from monitor.store.models import Alert, AlertUpdate, Item, Match, Source, Story, StoryLink


@dataclass(slots=True)
class SourceLine:
    outlet: str
    language: str | None
    published: datetime | None
    published_estimated: bool
    url: str | None
    title: str
    external_id: str | None


@dataclass(slots=True)
class MatchLine:
    kind: str
    name: str
    term: str
    method: str
    score: float
    snippet: str


@dataclass(slots=True)
class RelatedLine:
    story_id: int
    title: str
    published: datetime | None
    url: str | None
    reason: str
    score: float


@dataclass(slots=True)
class Briefing:
    alert_id: int
    story_id: int
    watchlist: str
    rule: str
    severity: str
    title: str
    first_seen: datetime
    sources: list[SourceLine]
    matches: list[MatchLine]
    related: list[RelatedLine]

    def to_json(self) -> dict[str, Any]:
        def convert(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            return value

        return {k: convert(v) for k, v in asdict(self).items()}


def outlet_name(item: Item, source: Source) -> str:
    return item.outlet or source.name


def story_sources(
    session: Session, story_id: int, items: list[int] | None = None
) -> list[SourceLine]:
    """The story's reports, oldest first; only ``items`` when given."""
    query = (
        select(Item, Source)
        .join(Source, col(Source.id) == Item.source_id)
        .where(Item.story_id == story_id)
        .order_by(col(Item.published), col(Item.id))
    )
    if items is not None:
        query = query.where(col(Item.id).in_(items))
    rows = session.exec(query).all()
    return [
        SourceLine(
            outlet_name(item, source),
            item.language,
            item.published,
            item.published_kind in ("estimated", "unknown"),
            item.url,
            item.title,
            item.external_id,
        )
        for item, source in rows
    ]


def related_lines(session: Session, story_id: int) -> list[RelatedLine]:
    rows = session.exec(
        select(StoryLink, Story)
        .join(Story, col(Story.id) == StoryLink.related_id)
        .where(StoryLink.story_id == story_id)
        .order_by(col(StoryLink.score).desc())
    ).all()
    lines = []
    for link, story in rows:
        first = session.exec(
            select(Item.url).where(Item.story_id == story.id).order_by(col(Item.published))
        ).first()
        assert story.id is not None
        lines.append(
            RelatedLine(
                story.id, story.title, story.first_published, first, link.reason, link.score
            )
        )
    return lines


def briefing(session: Session, alert: Alert, update: AlertUpdate | None = None) -> Briefing:
    """What an alert says; for an update, only the new report and what matched in it.

    An alert shows the reports the story had when it was queued: later ones are its
    follow-ups, and a reader should see each once.
    """
    story = session.get(Story, alert.story_id)
    assert story is not None and alert.id is not None and alert.story_id is not None
    if update is not None:
        items = [update.item_id]
    else:
        later = set(
            session.exec(select(AlertUpdate.item_id).where(AlertUpdate.alert_id == alert.id))
        )
        all_items = session.exec(select(Item.id).where(Item.story_id == story.id)).all()
        items = [i for i in all_items if i is not None and i not in later]
    matches = session.exec(
        select(Match)
        .where(
            Match.story_id == story.id,
            Match.watchlist == alert.watchlist,
            Match.rule == alert.rule,
            col(Match.item_id).in_(items),
        )
        .order_by(col(Match.item_id), col(Match.span_start))
    ).all()
    seen: set[tuple[str, str, str]] = set()
    match_lines = []
    for m in matches:
        key = (m.name, m.term.lower(), m.method)
        if key not in seen:
            seen.add(key)
            match_lines.append(MatchLine(m.kind, m.name, m.term, m.method, m.score, m.snippet))
    return Briefing(
        alert.id,
        alert.story_id,
        alert.watchlist,
        alert.rule,
        alert.severity,
        story.title,
        story.first_seen,
        story_sources(session, alert.story_id, items),
        match_lines,
        related_lines(session, alert.story_id) if update is None else [],
    )
