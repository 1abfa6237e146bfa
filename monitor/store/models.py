"""Database tables. The schema itself is created only by the Alembic migrations in alembic/.

Times are timezone-aware UTC everywhere; SQLModel's UTCDateTime keeps them so on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Source(SQLModel, table=True):
    """Where items come from: a feed or page URL, or a backfilled file or folder.

    The configuration lives in YAML; the database keeps per-source state and health.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, description="feed URL, or file:// URI of a backfilled path")
    kind: str = Field(description="feed, page, file")
    name: str
    url: str | None = None
    language_hint: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_item_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    items_seen: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Story(SQLModel, table=True):
    """One event, however many outlets and languages reported it."""

    id: int | None = Field(default=None, primary_key=True)
    title: str
    first_published: datetime | None = Field(default=None, index=True)
    last_published: datetime | None = None
    first_seen: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    item_count: int = 0


class Item(SQLModel, table=True):
    """One report as one outlet published it, normalized."""

    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_item_source_external"),
        Index("ix_item_story_published", "story_id", "published"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    external_id: str | None = None
    canonical_url: str | None = Field(default=None, unique=True)
    content_hash: str = Field(index=True)
    url: str | None = None
    title: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = None
    outlet: str | None = None
    published: datetime | None = Field(default=None, index=True)
    published_kind: str = Field(default="unknown", description="feed, dateline, estimated, unknown")
    first_seen: datetime = Field(default_factory=utcnow, index=True)
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)
    embedding: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    anchors: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class StoryAnchor(SQLModel, table=True):
    """Inverted index from a language-independent anchor (folded name, number) to stories.

    Story detection looks candidates up here inside a time window instead of scanning stories.
    """

    __table_args__ = (Index("ix_story_anchor_anchor_at", "anchor", "at"),)

    story_id: int = Field(foreign_key="story.id", primary_key=True)
    anchor: str = Field(primary_key=True)
    at: datetime = Field(description="latest publication time of the story's items with it")


class AnchorStat(SQLModel, table=True):
    """How many reports carry each anchor, so rare names weigh more than "Monday" or "2020".

    The row with the empty anchor counts all reports.
    """

    anchor: str = Field(primary_key=True)
    docs: int = 0


class StoryLink(SQLModel, table=True):
    """An earlier story related to a later one: same actors or topic, not the same event."""

    story_id: int = Field(foreign_key="story.id", primary_key=True)
    related_id: int = Field(foreign_key="story.id", primary_key=True)
    score: float
    reason: str


class Match(SQLModel, table=True):
    """Why a story matched a watchlist rule: which term, where, and how it was found."""

    __table_args__ = (
        UniqueConstraint(
            "item_id", "watchlist", "rule", "kind", "name", "span_start", name="uq_match_hit"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    story_id: int = Field(foreign_key="story.id", index=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    watchlist: str
    rule: str
    kind: str = Field(description="actor or keyword")
    name: str = Field(description="canonical actor name or keyword")
    term: str = Field(description="the text as found")
    method: str = Field(description="alias, folded, fuzzy, keyword")
    score: float
    span_start: int
    span_end: int
    snippet: str = Field(sa_column=Column(Text, nullable=False))
    created: datetime = Field(default_factory=utcnow)


class Alert(SQLModel, table=True):
    """The outbox: one row per (story, rule, channel), written before any delivery.

    state: ``recorded`` (kept, never to be sent: a backfill without --deliver), ``pending``,
    ``sent`` or ``failed`` (permanently, with last_error).
    """

    __table_args__ = (
        UniqueConstraint("story_id", "watchlist", "rule", "channel", name="uq_alert_route"),
        Index("ix_alert_state_next", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    story_id: int = Field(foreign_key="story.id", index=True)
    watchlist: str
    rule: str
    channel: str
    severity: str = "info"
    state: str = "pending"
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    next_attempt_at: datetime | None = None
    provider_id: str | None = None
    created: datetime = Field(default_factory=utcnow)
    delivered: datetime | None = None
