"""What the pages and the API show, read from the database as plain JSON-ready dicts.

Field names follow monitor/store/queries.py (the CLI's ``--json``); this module only adds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, tuple_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from monitor.alert.briefing import related_lines
from monitor.daemon.health import status as source_status
from monitor.store.models import Alert, Item, Match, Source, Story
from monitor.store.queries import _iso, alert_json, describe_stories
from monitor.story.decisions import decisions_for
from monitor.watchlist.loader import WatchlistError, load_file, watchlist_files

PAGE_SIZE = 50
CHART_DAYS = 14
EXCERPT_CHARS = 90


class BadRequest(ValueError):
    """A query parameter the operator got wrong; shown back as a 400."""


class Conflict(ValueError):
    """A request that does not fit the current state (retrying a sent alert); a 409."""


@dataclass(slots=True)
class StoryFilter:
    watchlist: str | None = None
    language: str | None = None
    source: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, int] | None = None  # keyset cursor: the last row of the page before
    limit: int = PAGE_SIZE


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_PATTERN = r"^[0-9]{1,16}~[0-9]{1,18}$"  # microseconds since 1970 ~ story id
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_cursor(value: str) -> tuple[datetime, int]:
    """The opaque ``next`` value of a page: every string of CURSOR_PATTERN is a valid one."""
    if not re.fullmatch(CURSOR_PATTERN, value):
        raise BadRequest(f"bad cursor {value!r}: pass the `next` value of the previous page")
    micros, _, story_id = value.partition("~")
    return _EPOCH + timedelta(microseconds=int(micros)), int(story_id)


def encode_cursor(first_seen: datetime, story_id: int) -> str:
    return f"{(first_seen - _EPOCH) // timedelta(microseconds=1)}~{story_id}"


def parse_time(value: str, strict: bool = False) -> datetime:
    """An ISO 8601 date-time (naive means UTC); ``strict``: RFC 3339 only, as the API says."""
    try:
        if strict and not RFC3339.match(value):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"bad date {value!r}: use ISO 8601, e.g. 2025-10-18T00:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stories_query(f: StoryFilter) -> SelectOfScalar[Story]:
    """One page of stories, newest first seen, by keyset: the cost does not grow with depth."""
    query = select(Story).where(col(Story.merged_into).is_(None))
    if f.after is not None:
        query = query.where(tuple_(col(Story.first_seen), col(Story.id)) < tuple_(*f.after))
    if f.since is not None:
        query = query.where(col(Story.first_seen) >= f.since)
    if f.until is not None:
        query = query.where(col(Story.first_seen) < f.until)
    if f.watchlist:
        query = query.where(
            exists().where(
                col(Match.story_id) == col(Story.id), col(Match.watchlist) == f.watchlist
            )
        )
    if f.language or f.source is not None:
        item = exists().where(col(Item.story_id) == col(Story.id))
        if f.language:
            item = item.where(col(Item.language) == f.language)
        if f.source is not None:
            item = item.where(col(Item.source_id) == f.source)
        query = query.where(item)
    order = query.order_by(col(Story.first_seen).desc(), col(Story.id).desc())
    return order.limit(f.limit + 1)


def list_stories(session: Session, f: StoryFilter) -> tuple[list[dict[str, Any]], str | None]:
    """A page of stories as the CLI's JSON, and the cursor of the next page (None: last)."""
    rows = list(session.exec(stories_query(f)).all())
    more = len(rows) > f.limit
    stories = rows[: f.limit]
    cursor = None
    if more:
        last = stories[-1]
        assert last.id is not None
        cursor = encode_cursor(last.first_seen, last.id)
    return describe_stories(session, stories), cursor


def story_detail(session: Session, story_id: int) -> dict[str, Any] | None:
    """One story with its timeline, highlighted matches, related stories, alerts, decisions."""
    story = session.get(Story, story_id)
    if story is None:
        return None
    data = describe_stories(session, [story])[0]
    texts = {
        item.id: f"{item.title}\n\n{item.text}"
        for item in session.exec(select(Item).where(Item.story_id == story_id)).all()
    }
    for match in data["matches"]:
        match["excerpt"] = excerpt(texts.get(match["item_id"], ""), *match["span"])
    data["related_stories"] = related_json(session, story_id)
    data["alerts"] = [
        alert_json(a)
        for a in session.exec(
            select(Alert).where(Alert.story_id == story_id).order_by(col(Alert.id))
        ).all()
    ]
    data["decisions"] = [
        {
            "action": d.action,
            "story_id": d.story_id,
            "item_id": d.item_id,
            "other_story_id": d.other_story_id,
            "actor": d.actor,
            "created": _iso(d.created),
        }
        for d in decisions_for(session, story_id)
    ]
    return data


def excerpt(text: str, start: int, end: int) -> dict[str, str]:
    """The matched span with some context either side, as three plain strings to escape."""
    lo, hi = max(0, start - EXCERPT_CHARS), min(len(text), end + EXCERPT_CHARS)
    before, after = " ".join(text[lo:start].split()), " ".join(text[end:hi].split())
    return {
        "before": ("…" if lo else "") + before + (" " if text[lo:start][-1:].isspace() else ""),
        "match": text[start:end],
        "after": (" " if text[end:hi][:1].isspace() else "")
        + after
        + ("…" if hi < len(text) else ""),
    }


def related_json(session: Session, story_id: int) -> list[dict[str, Any]]:
    """The story's earlier related stories, as the alert briefing lists them."""
    return [
        {
            "id": r.story_id,
            "title": r.title,
            "published": _iso(r.published),
            "score": r.score,
            "reason": r.reason,
        }
        for r in related_lines(session, story_id)
    ]


def sources_json(session: Session, today: date | None = None) -> list[dict[str, Any]]:
    """Every source with its health and items per day over the last CHART_DAYS days."""
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=CHART_DAYS - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    day = func.date(col(Item.first_seen))  # date() exists on SQLite and PostgreSQL alike
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for source_id, when, n in session.exec(
        select(Item.source_id, day, func.count())
        .where(col(Item.first_seen) >= since)
        .group_by(col(Item.source_id), day)
    ).all():
        counts[source_id][str(when)[:10]] = n
    totals = dict(
        session.exec(select(Item.source_id, func.count()).group_by(col(Item.source_id))).all()
    )
    days = [(first + timedelta(days=i)).isoformat() for i in range(CHART_DAYS)]
    return [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "url": s.url,
            "health": source_status(s),
            "next_poll_at": _iso(s.next_poll_at),
            "last_polled_at": _iso(s.last_polled_at),
            "last_success_at": _iso(s.last_success_at),
            "last_new_item_at": _iso(s.last_new_item_at),
            "last_error": s.last_error,
            "last_error_at": _iso(s.last_error_at),
            "consecutive_failures": s.consecutive_failures,
            "items": totals.get(s.id or 0, 0),
            "items_per_day": [{"day": d, "items": counts[s.id or 0].get(d, 0)} for d in days],
        }
        for s in session.exec(select(Source).order_by(col(Source.name))).all()
    ]


def source_choices(session: Session) -> list[dict[str, Any]]:
    """The stories page's source filter; languages and watchlists come from elsewhere, since
    a distinct over a million items is no thing to run on each page view."""
    return [
        {"id": s.id, "name": s.name}
        for s in session.exec(select(Source).order_by(col(Source.name))).all()
    ]


def retry_alert(session: Session, alert_id: int) -> Alert | None:
    """A failed alert goes back to pending; the daemon's next delivery round sends it."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        return None
    if alert.state != "failed":
        raise Conflict(f"alert {alert_id} is {alert.state}: only failed alerts are retried")
    alert.state, alert.next_attempt_at = "pending", None
    session.add(alert)
    session.commit()
    session.refresh(alert)
    return alert


def watchlist_files_json(location: Path) -> dict[str, Any]:
    """Each watchlist file with its validation state, as `monitor watchlists check` sees it."""
    files = []
    for path in watchlist_files(location) if location.exists() else []:
        try:
            name, problems = load_file(path).name, []
        except WatchlistError as exc:
            name, problems = None, [str(p) for p in exc.problems]
        files.append({"path": str(path), "name": name, "valid": not problems, "problems": problems})
    return {"location": str(location), "files": files}
