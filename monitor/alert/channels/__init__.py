"""Channels: where alerts go. Each sends an Outgoing message and returns the provider's id.

No channel API takes an idempotency key, so every message carries ``key``, our stable id of
it: Slack keeps it as message metadata, email as the Message-ID, the webhook as a header.
After a crash the deliverer asks the channel for that key before sending again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from monitor.alert.briefing import Briefing

SEVERITIES = ("info", "warning", "critical")
Kind = Literal["alert", "update", "digest", "test"]


@dataclass(slots=True)
class Outgoing:
    """One message: an alert, a follow-up in its thread, a digest of stories, or a test."""

    key: str
    kind: Kind
    briefings: list[Briefing]
    parent_key: str | None = None  # an update: its alert's key (email In-Reply-To)
    parent_id: str | None = None  # an update: its alert's provider id (Slack thread ts)

    @property
    def briefing(self) -> Briefing:
        return self.briefings[0]


@dataclass(slots=True, frozen=True)
class Policy:
    """How much a channel may receive: people, not the API, set these limits."""

    min_severity: str = "info"
    per_minute: int | None = None  # messages per minute on this channel, paced
    flood_limit: int | None = None  # alerts per rule per minute; the rest go in one summary


class Channel(Protocol):
    name: str
    policy: Policy

    async def send(self, message: Outgoing) -> str:
        """Deliver, or raise; the return value is the provider's message id."""
        ...

    async def find(self, message: Outgoing, since: datetime) -> str | None:
        """The provider id of ``message`` if the channel already holds it, None if it does not
        or cannot tell (then a re-send must be recognisable as the same message)."""
        ...

    async def aclose(self) -> None: ...


class PermanentError(Exception):
    """The channel refused for good (bad address, revoked token): do not retry."""


class TransientError(Exception):
    """Try again later; ``maybe_sent`` when the channel may have accepted it anyway."""

    def __init__(
        self, message: str, retry_after: float | None = None, maybe_sent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


def rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def when(value: datetime | None, estimated: bool = False) -> str:
    if value is None:
        return "date unknown"
    return value.strftime("%Y-%m-%d %H:%M UTC") + (" (estimated)" if estimated else "")


def how(method: str, score: float) -> str:
    return f"{method} {score:.2f}" if method == "fuzzy" else method


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are shown as links; anything else is shown as text or dropped."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def subject(message: Outgoing) -> str:
    """One line naming the watchlist, the rule and the story: email subject, Slack fallback."""
    b = message.briefing
    route = f"{b.watchlist}/{b.rule}"
    if message.kind == "digest":
        return f"[{route}] digest: {len(message.briefings)} stories"
    if message.kind == "test":
        return f"[{route}] test message"
    title = " ".join(b.title.split())
    prefix = "Re: " if message.kind == "update" else ""
    return f"{prefix}[{b.severity.upper()} {route}] {title}"
