"""Write alerts to the outbox before anything is sent: the row is the promise to deliver."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from monitor.store.models import Alert, AlertUpdate, utcnow
from monitor.watchlist.matcher import RuleMatch

# Channels that only show the operator what happened; a backfill writes to them always.
LOCAL_CHANNELS = frozenset({"console"})
DIGEST_WINDOWS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
# States whose story updates are worth queuing: the alert was, or will be, sent.
_FOLLOWED = ("pending", "sending", "sent")


def window_end(now: datetime, window: timedelta) -> datetime:
    """The end of the fixed UTC window (aligned on the epoch) that ``now`` falls in."""
    epoch = datetime(1970, 1, 1, tzinfo=now.tzinfo)
    return now + (window - (now - epoch) % window)


def record_alerts(
    session: Session,
    story_id: int,
    item_id: int,
    matches: list[RuleMatch],
    deliver: bool,
    quiet: bool = False,
    follow: bool = True,
) -> list[Alert]:
    """Queue one alert per (story, watchlist, rule, channel) the first time it matches, and a
    follow-up on each alert the story already has: a new report grows the alert, not repeats it.

    Without ``deliver`` (a backfill), alerts for external channels, and their follow-ups, are
    kept as ``recorded`` and never sent later unless an operator asks: a backfill must not
    flood anyone. ``quiet`` (the daemon's flood rules) records them on every channel,
    console included. ``follow`` False (a correction of a report already followed) queues
    no follow-up: a correction alerts again only through a rule it newly matches.
    """
    if follow:
        follow_story(session, story_id, item_id)
    created = []
    now = utcnow()
    for match in matches:
        for channel in match.rule.channels:
            exists = session.exec(
                select(Alert.id).where(
                    Alert.story_id == story_id,
                    Alert.watchlist == match.watchlist,
                    Alert.rule == match.rule.name,
                    Alert.channel == channel,
                )
            ).first()
            if exists is not None:
                continue
            digest_at = (
                window_end(now, DIGEST_WINDOWS[match.rule.digest]) if match.rule.digest else None
            )
            alert = Alert(
                story_id=story_id,
                watchlist=match.watchlist,
                rule=match.rule.name,
                channel=channel,
                severity=match.rule.severity,
                state="recorded"
                if quiet
                else ("pending" if deliver or channel in LOCAL_CHANNELS else "recorded"),
                created=now,
                digest_at=digest_at,
                next_attempt_at=digest_at,
            )
            session.add(alert)
            created.append(alert)
    if created:
        session.flush()
    return created


def follow_story(session: Session, story_id: int, item_id: int) -> int:
    """Queue a follow-up of this item on every alert the story already has (not digests)."""
    alerts = session.exec(
        select(Alert.id, Alert.state).where(
            Alert.story_id == story_id, col(Alert.digest_at).is_(None)
        )
    ).all()
    for alert_id, state in alerts:
        assert alert_id is not None
        followed = state in _FOLLOWED
        session.add(
            AlertUpdate(
                alert_id=alert_id,
                item_id=item_id,
                state="pending" if followed else state,
                last_error=None if followed else f"its alert {alert_id} is {state}",
            )
        )
    return len(alerts)


class RetryRefused(Exception):
    """The alert cannot be retried as asked; the message says why."""


def retry_alert(session: Session, alert_id: int) -> Alert:
    """Queue a failed, skipped or recorded alert again, with its follow-ups, on an operator's
    word. A sent alert is never re-sent; a ``sending`` one is being checked already."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise RetryRefused(f"no alert {alert_id}")
    if alert.state == "sent":
        raise RetryRefused(f"alert {alert_id} was sent at {alert.delivered}; it is not re-sent")
    if alert.state == "sending":
        raise RetryRefused(f"alert {alert_id} is being delivered; its outcome is checked first")
    alert.state, alert.attempts, alert.next_attempt_at = "pending", 0, None
    session.add(alert)
    for row in session.exec(select(AlertUpdate).where(AlertUpdate.alert_id == alert_id)).all():
        if row.state not in ("sent", "sending"):
            row.state, row.attempts, row.next_attempt_at = "pending", 0, None
            session.add(row)
    session.commit()
    return alert
