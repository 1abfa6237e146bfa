"""Write alerts to the outbox before anything is sent: the row is the promise to deliver."""

from __future__ import annotations

from sqlmodel import Session, select

from monitor.store.models import Alert
from monitor.watchlist.matcher import RuleMatch

# Channels that only show the operator what happened; a backfill writes to them always.
LOCAL_CHANNELS = frozenset({"console"})


def record_alerts(
    session: Session, story_id: int, matches: list[RuleMatch], deliver: bool, quiet: bool = False
) -> list[Alert]:
    """One alert per (story, watchlist, rule, channel), created the first time it matches.

    Without ``deliver`` (a backfill), alerts for external channels are kept as ``recorded``
    and never sent later unless an operator asks: a backfill must not flood anyone.
    ``quiet`` (the daemon's flood rules) records them on every channel, console included.
    """
    created = []
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
            alert = Alert(
                story_id=story_id,
                watchlist=match.watchlist,
                rule=match.rule.name,
                channel=channel,
                severity=match.rule.severity,
                state="recorded"
                if quiet
                else ("pending" if deliver or channel in LOCAL_CHANNELS else "recorded"),
            )
            session.add(alert)
            created.append(alert)
    return created
