"""Deliver due outbox rows through their channels: once, in order, through outages and crashes.

Each message is claimed (state ``sending``, a lease in ``next_attempt_at``) and committed
before the channel sees it, and marked ``sent`` with the provider's id only after the channel
accepted it. A crash between the two leaves ``sending``: when the lease runs out, the channel
is asked whether it holds the message's key (Slack: conversations.history) before any
re-send. Where it cannot say (SMTP, webhooks) the re-send carries the same key, so it is
recognisably the same message. the README states the guarantee that remains.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, or_, select

from monitor.alert.briefing import Briefing, briefing
from monitor.alert.channels import Channel, Outgoing, PermanentError, TransientError, rank
from monitor.store.models import Alert, AlertUpdate, utcnow

log = logging.getLogger(__name__)
_DUE_STATES = ("pending", "sending")
_FLOOD_WINDOW = timedelta(minutes=1)
Row = Alert | AlertUpdate


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    """Backoff between attempts, and how long a claim is trusted before it is looked up."""

    base_seconds: float = 5.0
    cap_seconds: float = 3600.0
    max_attempts: int = 12
    lease_seconds: float = 120.0  # must exceed every channel's timeout

    def backoff(self, attempts: int) -> float:
        """Exponential with full jitter: retries of many alerts spread instead of stampeding."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(slots=True)
class DeliveryStats:
    sent: int = 0
    found: int = 0  # an unknown outcome turned out delivered: not sent again
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    summarized: int = 0  # held back by the flood guard for a summary message

    def add(self, other: DeliveryStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name}" for f in fields(self))


def alert_key(alert: Alert) -> str:
    """Stable and unique across databases: the id alone would repeat in another install."""
    return f"alert-{alert.id}.{alert.created:%Y%m%d%H%M%S%f}"


def update_key(row: AlertUpdate) -> str:
    return f"update-{row.id}.{row.created:%Y%m%d%H%M%S%f}"


def digest_key(first: Alert) -> str:
    assert first.digest_at is not None
    return f"digest-{first.id}.{first.digest_at:%Y%m%d%H%M}"


class _Pacer:
    """At most ``per_minute`` messages a minute on one channel, evenly spaced."""

    def __init__(self, per_minute: int | None) -> None:
        self.interval = 60 / per_minute if per_minute else 0.0
        self.last = -float("inf")

    async def wait(self) -> None:
        delay = self.last + self.interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self.last = time.monotonic()


async def deliver_due(
    engine: Engine,
    channels: dict[str, Channel],
    now: datetime | None = None,
    retry: RetryPolicy | None = None,
) -> DeliveryStats:
    """Send everything due at ``now`` on the given channels, channels side by side."""
    now, retry = now or utcnow(), retry or RetryPolicy()
    results = await asyncio.gather(
        *(_Deliverer(engine, channel, now, retry).run() for channel in channels.values())
    )
    total = DeliveryStats()
    for stats in results:
        total.add(stats)
    return total


def next_due(engine: Engine, channels: list[str]) -> datetime | None:
    """When the earliest outstanding row on these channels is due (None: nothing left)."""
    with Session(engine) as session:
        rows = [
            session.exec(
                select(func.min(func.coalesce(Alert.next_attempt_at, Alert.created))).where(
                    col(Alert.state).in_(_DUE_STATES), col(Alert.channel).in_(channels)
                )
            ).one(),
            session.exec(
                select(func.min(func.coalesce(AlertUpdate.next_attempt_at, AlertUpdate.created)))
                .join(Alert, col(Alert.id) == AlertUpdate.alert_id)
                .where(col(AlertUpdate.state).in_(_DUE_STATES), col(Alert.channel).in_(channels))
            ).one(),
        ]
    due = [r for r in rows if r is not None]
    return min(due) if due else None


class _Deliverer:
    """One pass over one channel's due rows: alerts, then digests, then follow-ups."""

    def __init__(self, engine: Engine, channel: Channel, now: datetime, retry: RetryPolicy):
        self.engine, self.channel, self.now, self.retry = engine, channel, now, retry
        self.pacer = _Pacer(channel.policy.per_minute)
        self.stats = DeliveryStats()

    async def run(self) -> DeliveryStats:
        for alert in self._due_alerts(digest=False):
            await self._alert(alert)
        groups: dict[tuple[str, str, Any], list[Alert]] = defaultdict(list)
        for alert in self._due_alerts(digest=True):
            groups[(alert.watchlist, alert.rule, alert.digest_at)].append(alert)
        for group in groups.values():
            await self._digest(group)
        for row in self._due_updates():
            await self._update(row)
        return self.stats

    def _due(self, model: type[Row]) -> Any:
        return col(model.state).in_(_DUE_STATES) & or_(
            col(model.next_attempt_at).is_(None), col(model.next_attempt_at) <= self.now
        )

    def _due_alerts(self, digest: bool) -> list[Alert]:
        grouped = col(Alert.digest_at).is_not(None) if digest else col(Alert.digest_at).is_(None)
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Alert)
                    .where(self._due(Alert), Alert.channel == self.channel.name, grouped)
                    .order_by(col(Alert.id))
                ).all()
            )

    def _due_updates(self) -> list[AlertUpdate]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(AlertUpdate)
                    .join(Alert, col(Alert.id) == AlertUpdate.alert_id)
                    .where(self._due(AlertUpdate), Alert.channel == self.channel.name)
                    .order_by(col(AlertUpdate.id))
                ).all()
            )

    async def _alert(self, alert: Alert) -> None:
        below = rank(alert.severity) < rank(self.channel.policy.min_severity)
        if alert.state == "pending" and below:  # a ``sending`` one may be out already
            self._finish([alert], "skipped", error="below the channel's minimum severity")
            return
        if alert.state == "pending" and self._flooded(alert):
            return
        with Session(self.engine) as session:
            message = Outgoing(
                alert.message_key or alert_key(alert), "alert", [briefing(session, alert)]
            )
        await self._deliver([alert], message)

    async def _digest(self, group: list[Alert]) -> None:
        first = group[0]
        with Session(self.engine) as session:
            briefs = [briefing(session, a) for a in group]
        await self._deliver(
            group, Outgoing(first.message_key or digest_key(first), "digest", briefs)
        )

    async def _update(self, row: AlertUpdate) -> None:
        with Session(self.engine) as session:
            alert = session.get(Alert, row.alert_id)
            assert alert is not None
            if alert.state in ("failed", "skipped", "recorded"):
                self._finish([row], alert.state, error=f"its alert {alert.id} is {alert.state}")
                return
            if alert.state != "sent":  # no thread yet: look again when the alert is due
                later = utcnow() + timedelta(seconds=self.retry.base_seconds)
                self._defer(row, max(filter(None, (alert.next_attempt_at, later))))
                return
            message = Outgoing(
                update_key(row),
                "update",
                [briefing(session, alert, row)],
                parent_key=alert.message_key,
                parent_id=alert.provider_id,
            )
        await self._deliver([row], message)

    def _defer(self, row: AlertUpdate, until: datetime) -> None:
        with Session(self.engine) as session:
            session.execute(
                update(AlertUpdate)
                .where(col(AlertUpdate.id) == row.id, col(AlertUpdate.state) == "pending")
                .values(next_attempt_at=until)
            )
            session.commit()

    def _flooded(self, alert: Alert) -> bool:
        """Past ``flood_limit`` alerts of this rule in the last minute, hold the rest back for
        one summary at the end of the minute: a runaway rule sends one message, not hundreds."""
        limit = self.channel.policy.flood_limit
        if limit is None:
            return False
        with Session(self.engine) as session:
            recent = session.exec(
                select(func.count())
                .select_from(Alert)
                .where(
                    Alert.channel == alert.channel,
                    Alert.watchlist == alert.watchlist,
                    Alert.rule == alert.rule,
                    col(Alert.digest_at).is_(None),
                    col(Alert.state) == "sent",
                    col(Alert.delivered) > self.now - _FLOOD_WINDOW,
                )
            ).one()
            if recent < limit:
                return False
            window = self.now.replace(second=0, microsecond=0) + _FLOOD_WINDOW
            session.execute(
                update(Alert)
                .where(col(Alert.id) == alert.id, col(Alert.state) == "pending")
                .values(digest_at=window, next_attempt_at=window)
            )
            session.commit()
        self.stats.summarized += 1
        return True

    async def _deliver(self, rows: Sequence[Row], message: Outgoing) -> None:
        claimed = self._claim(rows, message.key)
        if not claimed:
            return
        unknown = any(r.state == "sending" for r in rows)
        await self.pacer.wait()
        try:
            found = None
            if unknown:
                since = min(r.created for r in rows) - timedelta(minutes=1)
                found = await self.channel.find(message, since)
            provider_id = found or await self.channel.send(message)
        except PermanentError as exc:
            self._finish(claimed, "failed", error=str(exc))
        except TransientError as exc:
            self._retry(claimed, str(exc), exc.retry_after, exc.maybe_sent)
        except Exception as exc:  # a bug or an unexpected reply: the outcome is unknown
            log.exception("%s: delivering %s failed", self.channel.name, message.key)
            self._retry(claimed, f"{type(exc).__name__}: {exc}", None, maybe_sent=True)
        else:
            self._finish(claimed, "sent", provider_id=provider_id)
            if found:
                self.stats.found += len(claimed)

    def _claim(self, rows: Sequence[Row], key: str) -> Sequence[Row]:
        """Mark rows ``sending`` under a lease, compare-and-set on what we read, so two
        deliverers never send the same row; returns the rows this one got."""
        lease = utcnow() + timedelta(seconds=self.retry.lease_seconds)
        claimed = []
        with Session(self.engine) as session:
            for row in rows:
                model = type(row)
                values: dict[str, Any] = {
                    "state": "sending",
                    "attempts": row.attempts + 1,
                    "next_attempt_at": lease,
                }
                if model is Alert:
                    values["message_key"] = key
                result = session.execute(
                    update(model)
                    .where(
                        col(model.id) == row.id,
                        col(model.state) == row.state,
                        col(model.attempts) == row.attempts,
                    )
                    .values(**values)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(row)
            session.commit()
        return claimed

    def _finish(
        self,
        rows: Sequence[Row],
        state: str,
        error: str | None = None,
        provider_id: str | None = None,
    ) -> None:
        with Session(self.engine) as session:
            for row in rows:
                values: dict[str, Any] = {
                    "state": state,
                    "last_error": error,
                    "next_attempt_at": None,
                }
                if state == "sent":
                    values |= {"provider_id": provider_id, "delivered": utcnow()}
                session.execute(
                    update(type(row)).where(col(type(row).id) == row.id).values(**values)
                )
            session.commit()
        counter = {"sent": "sent", "failed": "failed", "skipped": "skipped"}.get(state)
        if counter:
            setattr(self.stats, counter, getattr(self.stats, counter) + len(rows))
        if state == "failed":
            log.warning(
                "%s: %d message(s) failed for good: %s", self.channel.name, len(rows), error
            )

    def _retry(
        self, rows: Sequence[Row], error: str, retry_after: float | None, maybe_sent: bool
    ) -> None:
        attempts = max(r.attempts for r in rows) + 1
        if attempts >= self.retry.max_attempts:
            self._finish(rows, "failed", error=f"gave up after {attempts} attempts: {error}")
            return
        delay = retry_after if retry_after is not None else self.retry.backoff(attempts)
        # Unknown outcome stays ``sending``: the next attempt looks before it sends.
        state = "sending" if maybe_sent else "pending"
        at = utcnow() + timedelta(seconds=delay)
        with Session(self.engine) as session:
            for row in rows:
                session.execute(
                    update(type(row))
                    .where(col(type(row).id) == row.id)
                    .values(state=state, last_error=error, next_attempt_at=at)
                )
            session.commit()
        self.stats.retrying += len(rows)
        log.info("%s: retry in %.1fs: %s", self.channel.name, delay, error)


async def send_test(channel: Channel) -> str:
    """A harmless message through ``channel`` so an operator can see the wiring works."""
    now = utcnow()
    sample = Briefing(
        0, 0, "monitor", "send-test", "info", "Test message from monitor", now, [], [], []
    )
    message = Outgoing(f"test-{now:%Y%m%d%H%M%S%f}", "test", [sample])
    try:
        return await channel.send(message)
    finally:
        await channel.aclose()
