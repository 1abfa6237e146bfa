"""Read models for `monitor stories --json`, `monitor alerts --json` and the API.

Field names are a contract: later versions may add fields, never rename them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from monitor.alert.briefing import outlet_name
from monitor.store.models import Alert, Item, Match, Source, Story, StoryLink


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def stories_json(session: Session, limit: int | None = None) -> list[dict[str, Any]]:
    """Stories, newest first, with their items, related stories and matches."""
    query = (
        select(Story)
        .where(col(Story.merged_into).is_(None))
        .order_by(col(Story.first_published).desc(), col(Story.id).desc())
    )
    return describe_stories(session, list(session.exec(query.limit(limit) if limit else query)))


def describe_stories(session: Session, stories: list[Story]) -> list[dict[str, Any]]:
    """The JSON of given stories, in their order: what the CLI prints and the API serves."""
    ids = [s.id for s in stories]
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    languages: dict[int, list[str]] = defaultdict(list)
    for item, source in session.exec(
        select(Item, Source)
        .join(Source, col(Source.id) == Item.source_id)
        .where(col(Item.story_id).in_(ids))
        .order_by(col(Item.published), col(Item.id))
    ).all():
        assert item.story_id is not None
        items[item.story_id].append(
            {
                "id": item.id,
                "external_id": item.external_id,
                "url": item.url,
                "source": outlet_name(item, source),
                "language": item.language,
                "title": item.title,
                "published": _iso(item.published),
                "published_estimated": item.published_kind in ("estimated", "unknown"),
            }
        )
        if item.language and item.language not in languages[item.story_id]:
            languages[item.story_id].append(item.language)
    related: dict[int, list[int]] = defaultdict(list)
    for link in session.exec(
        select(StoryLink)
        .where(col(StoryLink.story_id).in_(ids))
        .order_by(col(StoryLink.score).desc())
    ).all():
        related[link.story_id].append(link.related_id)
    matches: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in session.exec(
        select(Match)
        .where(col(Match.story_id).in_(ids))
        .order_by(col(Match.item_id), col(Match.span_start), col(Match.id))
    ).all():
        matches[m.story_id].append(
            {
                "item_id": m.item_id,
                "watchlist": m.watchlist,
                "rule": m.rule,
                "kind": m.kind,
                "name": m.name,
                "term": m.term,
                "method": m.method,
                "score": m.score,
                "span": [m.span_start, m.span_end],
                "snippet": m.snippet,
            }
        )
    return [
        {
            "id": s.id,
            "title": s.title,
            "published": _iso(s.first_published),
            "languages": languages[s.id or 0],
            "items": items[s.id or 0],
            "related": related[s.id or 0],
            "matches": matches[s.id or 0],
            "first_seen": _iso(s.first_seen),
            "watchlists": sorted({m["watchlist"] for m in matches[s.id or 0]}),
            "muted": s.muted,
            "merged_into": s.merged_into,
        }
        for s in stories
    ]


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "story_id": alert.story_id,
        "watchlist": alert.watchlist,
        "rule": alert.rule,
        "channel": alert.channel,
        "severity": alert.severity,
        "state": alert.state,
        "attempts": alert.attempts,
        "last_error": alert.last_error,
        "created": _iso(alert.created),
        "delivered": _iso(alert.delivered),
        "next_attempt_at": _iso(alert.next_attempt_at),
        "provider_id": alert.provider_id,
        "message_key": alert.message_key,
    }


def alerts_json(session: Session, state: str | None = None) -> list[dict[str, Any]]:
    query = select(Alert).order_by(col(Alert.id))
    if state:
        query = query.where(Alert.state == state)
    return [alert_json(a) for a in session.exec(query).all()]
