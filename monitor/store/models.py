"""Database tables. The schema itself is created only by the Alembic migrations in alembic/.

Times are timezone-aware UTC everywhere; SQLModel's UTCDateTime keeps them so on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Source(SQLModel, table=True):
    """Where items come from: a feed or page URL, or a backfilled file or folder.

    The configuration lives in YAML; the database keeps per-source state and health.
    """

    __table_args__ = (Index("ix_source_due", "enabled", "next_poll_at"),)

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
    # Polling state (the daemon). A worker owns a source while lease_until is in the future.
    enabled: bool = True
    next_poll_at: datetime | None = None
    lease_until: datetime | None = None
    lease_owner: str | None = None
    interval_s: float | None = Field(default=None, description="current adaptive interval")
    redirect_url: str | None = Field(default=None, description="target of a permanent redirect")
    mean_gap_s: float | None = Field(default=None, description="usual time between new items")
    notice_state: str | None = Field(
        default=None, description="operator alert raised: failing, dark"
    )
    polls: int = 0
    warnings: int = 0
    last_warning: str | None = Field(default=None, sa_column=Column(Text))


class Story(SQLModel, table=True):
    """One event, however many outlets and languages reported it."""

    # Keyset paging of the stories page, newest first, on any database.
    __table_args__ = (Index("ix_story_first_seen_id", "first_seen", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str
    first_published: datetime | None = Field(default=None, index=True)
    last_published: datetime | None = None
    first_seen: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    item_count: int = 0
    # Analyst decisions (StoryDecision keeps the record): no more alerts; folded into another.
    muted: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    merged_into: int | None = Field(default=None, foreign_key="story.id")


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
    # MinHash of the lead's shingles (wire copies); None for short texts or rows stored
    # before migration 0009
    signature: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    anchors: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ItemVersion(SQLModel, table=True):
    """An earlier version of a corrected item: what the outlet said before it changed it."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    title: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str
    replaced_at: datetime = Field(default_factory=utcnow)


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

    state: ``recorded`` (kept, never to be sent: a backfill without --deliver, or a flood the
    daemon holds back), ``pending``, ``sending`` (handed to the channel, outcome unknown until
    ``next_attempt_at``: then it is looked up before any re-send), ``sent`` (with the
    provider's id), ``failed`` (permanently, with last_error) or ``skipped`` (below the
    channel's minimum severity).
    ``digest_at`` set: the alert goes out in one grouped message for its rule at that time
    (the rule's digest window, or the flood guard's summary).
    Operator alerts (a source failing, gone dark, recovered) have no story: watchlist
    ``operator``, a ``source_id`` and a ready ``message``.
    """

    __table_args__ = (
        UniqueConstraint("story_id", "watchlist", "rule", "channel", name="uq_alert_route"),
        Index("ix_alert_state_next", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)
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
    digest_at: datetime | None = None
    message_key: str | None = Field(
        default=None, description="our id of the message sent: Slack metadata, email Message-ID"
    )

    source_id: int | None = Field(default=None, foreign_key="source.id")
    message: str | None = Field(default=None, sa_column=Column(Text))


class AlertUpdate(SQLModel, table=True):
    """A later report of an alerted story: a Slack thread reply or an email follow-up.

    Same states as Alert; sent only after its alert, into the alert's thread.
    """

    __table_args__ = (
        UniqueConstraint("alert_id", "item_id", name="uq_alert_update"),
        Index("ix_alert_update_state_next", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    item_id: int = Field(foreign_key="item.id")
    state: str = "pending"
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    next_attempt_at: datetime | None = None
    provider_id: str | None = None
    created: datetime = Field(default_factory=utcnow)
    delivered: datetime | None = None


class StoryDecision(SQLModel, table=True):
    """An analyst's decision about a story (mute, unmute, split, merge), kept as a record.

    The effect lives on the rows themselves (``Story.muted``, ``Story.merged_into``, the
    item's ``story_id``); this table says who decided what and when, for the story page.
    """

    id: int | None = Field(default=None, primary_key=True)
    action: str = Field(description="mute, unmute, split, merge")
    story_id: int = Field(foreign_key="story.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="item.id")
    other_story_id: int | None = Field(default=None, foreign_key="story.id")
    actor: str = Field(default="", description="who decided: cli, web")
    created: datetime = Field(default_factory=utcnow)


class Worker(SQLModel, table=True):
    """A running ``monitor run`` process; ``last_seen`` is its heartbeat (monitor.store.workers)."""

    id: str = Field(primary_key=True, description="unique per process: host, pid, start")
    host: str
    pid: int
    started: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow, index=True)
