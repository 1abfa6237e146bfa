"""After each poll: a source's state, schedule and health, and the operator's alerts.

One transaction per poll writes the new ETag, the health counters, the next poll time, the
lease release and any operator alert together, so they never disagree after a crash.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from monitor.config import DaemonSettings
from monitor.daemon.claims import Claim, release
from monitor.store.models import Alert, Source

log = logging.getLogger(__name__)
OPERATOR_ROUTE = "operator"  # the outbox route (watchlist and channel) of operator alerts


@dataclass(slots=True)
class Outcome:
    """What one poll found."""

    error: str | None = None
    retry_after: float | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    new_items: int = 0
    warnings: list[str] = field(default_factory=list)


def status(source: Source) -> str:
    """ok, failing, dark, disabled (by the operator), or new (never polled)."""
    if not source.enabled:
        return "disabled"
    if source.notice_state == "dark":
        return "dark"
    if source.consecutive_failures:
        return "failing"
    backfilled = source.key.startswith("file:")  # read once from disk, never polled
    return "ok" if source.polls or source.last_success_at or backfilled else "new"


def clamp(value: float, settings: DaemonSettings) -> float:
    return min(settings.max_interval, max(settings.min_interval, value))


def backoff(interval: float, failures: int, settings: DaemonSettings, rng: random.Random) -> float:
    """Exponential in the number of consecutive failures, capped, with ±25 % jitter."""
    delay = min(settings.backoff_max, interval * 2 ** min(failures - 1, 30))
    return delay * rng.uniform(0.75, 1.25)


def adapt(interval: float, new_items: int, settings: DaemonSettings) -> float:
    """Busy feeds are polled more often, quiet ones less, within the operator's bounds."""
    return clamp(interval * (0.5 if new_items else 1.5), settings)


def record_poll(
    engine: Engine,
    claim: Claim,
    outcome: Outcome,
    base_interval: float,
    settings: DaemonSettings,
    now: datetime,
    rng: random.Random,
) -> list[str]:
    """Store the poll's outcome; returns the operator notices it raised."""
    with Session(engine) as session:
        source = session.get(Source, claim.id)
        assert source is not None
        source.polls += 1
        source.last_polled_at = now
        release(source)
        interval = clamp(source.interval_s or base_interval, settings)
        if outcome.error is not None:
            notices = _failed(source, outcome, interval, settings, now, rng)
        else:
            notices = _succeeded(source, outcome, interval, settings, now, rng)
        for rule, message in notices:
            session.add(
                Alert(
                    watchlist=OPERATOR_ROUTE,
                    rule=rule,
                    channel=OPERATOR_ROUTE,
                    severity="info" if rule == "source-recovered" else "warning",
                    source_id=source.id,
                    message=message,
                )
            )
        session.add(source)
        session.commit()
    return [message for _, message in notices]


def _failed(
    source: Source,
    outcome: Outcome,
    interval: float,
    settings: DaemonSettings,
    now: datetime,
    rng: random.Random,
) -> list[tuple[str, str]]:
    source.consecutive_failures += 1
    source.last_error, source.last_error_at = outcome.error, now
    if outcome.retry_after is not None:  # the server said when: believe it, within reason
        delay = min(settings.backoff_max, outcome.retry_after)
    else:
        delay = backoff(interval, source.consecutive_failures, settings, rng)
    source.next_poll_at = now + timedelta(seconds=delay)
    if source.consecutive_failures >= settings.failing_after and source.notice_state is None:
        source.notice_state = "failing"
        return [
            (
                "source-failing",
                f"source {source.name} ({source.key}) failed {source.consecutive_failures} "
                f"polls in a row: {outcome.error}",
            )
        ]
    return []


def _succeeded(
    source: Source,
    outcome: Outcome,
    interval: float,
    settings: DaemonSettings,
    now: datetime,
    rng: random.Random,
) -> list[tuple[str, str]]:
    source.consecutive_failures = 0
    source.last_success_at = now
    if not outcome.not_modified:
        source.etag, source.last_modified = outcome.etag, outcome.last_modified
    if outcome.permanent_url:
        source.redirect_url = outcome.permanent_url
    if outcome.warnings:
        source.warnings += len(outcome.warnings)
        source.last_warning = outcome.warnings[-1]
    if outcome.new_items:
        source.items_seen += outcome.new_items
        if source.last_new_item_at is not None:
            gap = (now - source.last_new_item_at).total_seconds()
            source.mean_gap_s = (
                gap if source.mean_gap_s is None else 0.7 * source.mean_gap_s + 0.3 * gap
            )
        source.last_new_item_at = now
    source.interval_s = adapt(interval, outcome.new_items, settings)
    source.next_poll_at = now + timedelta(seconds=source.interval_s * rng.uniform(0.9, 1.1))
    return _notices_after_success(source, outcome, settings, now)


def _notices_after_success(
    source: Source, outcome: Outcome, settings: DaemonSettings, now: datetime
) -> list[tuple[str, str]]:
    name = f"{source.name} ({source.key})"
    if source.notice_state == "failing" or (source.notice_state == "dark" and outcome.new_items):
        source.notice_state = None
        return [("source-recovered", f"source {name} is back: polled successfully")]
    silent_since = source.last_new_item_at or source.created_at
    usual = source.mean_gap_s or settings.dark_min
    threshold = max(settings.dark_factor * usual, settings.dark_min)
    silence = (now - silent_since).total_seconds()
    if source.notice_state is None and silence > threshold:
        source.notice_state = "dark"
        hours = silence / 3600
        return [
            (
                "source-dark",
                f"source {name} answers but has had no new item for {hours:.0f} h "
                f"(usually one every {usual / 3600:.1f} h): moved feed, paywall or empty feed?",
            )
        ]
    return []
