"""Write alerts to the outbox before anything is sent: the row is the promise to deliver."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from monitor.store.models import Alert, AlertUpdate, utcnow
from monitor.watchlist.matcher import RuleMatch

# Channels that only show the operator what happened; a backfill writes to them always.
LOCAL_CHANNELS = frozenset({"console"})
DIGEST_WINDOWS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}
# States whose story updates are worth queuing: the alert was, or will be, sent.
_FOLLOWED = ("pending", "sending", "sent")
# Built once: building a statement cost ten times its run (0.3 ms against 0.03).
_STORY_ALERTS = sa_select(
    col(Alert.id),
    col(Alert.watchlist),
    col(Alert.rule),
    col(Alert.channel),
    col(Alert.state),
    col(Alert.digest_at),
).where(col(Alert.story_id) == bindparam("story"))


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
    if not (follow or matches):
        return []
    alerts = session.connection().execute(_STORY_ALERTS, {"story": story_id}).all()
    if follow:  # digests gather their stories' reports already
        follow_story(session, [(a.id, a.state) for a in alerts if a.digest_at is None], item_id)
    raised = {(a.watchlist, a.rule, a.channel) for a in alerts}
    created = []
    now = utcnow()
    for match in matches:
        for channel in match.rule.channels:
            if (match.watchlist, match.rule.name, channel) in raised:
                continue
            raised.add((match.watchlist, match.rule.name, channel))
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


def follow_story(session: Session, alerts: list[tuple[int | None, str]], item_id: int) -> None:
    """Queue a follow-up of this item on each of the story's alerts (id, state) given.

    Plain rows, not ORM objects: every report joining an alerted story comes here."""
    now, rows = utcnow(), []
    for alert_id, state in alerts:
        assert alert_id is not None
        followed = state in _FOLLOWED
        rows.append(
            {
                "alert_id": alert_id,
                "item_id": item_id,
                "state": "pending" if followed else state,
                "attempts": 0,
                "last_error": None if followed else f"its alert {alert_id} is {state}",
                "created": now,
            }
        )
    if rows:
        session.connection().execute(SQLModel.metadata.tables["alertupdate"].insert(), rows)


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
