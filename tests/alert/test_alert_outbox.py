"""The outbox as the pipeline fills it: one alert per route, follow-ups, backfill, digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alert_servers import queue_alerts
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.alert.outbox import record_alerts, window_end
from monitor.store.models import Alert, AlertUpdate, Item
from monitor.watchlist.matcher import RuleMatch
from monitor.watchlist.schema import Rule


def rule_match(**rule: object) -> RuleMatch:
    return RuleMatch("w", Rule(name="r", any=["x"], **rule), ())  # type: ignore[arg-type]


def second_item(session: Session, story_id: int) -> int:
    first = session.exec(select(Item).where(Item.story_id == story_id)).first()
    assert first is not None
    item = Item(
        source_id=first.source_id,
        external_id="second",
        content_hash="second",
        title="Second report",
        text="text",
        story_id=story_id,
    )
    session.add(item)
    session.flush()
    assert item.id is not None
    return item.id


def test_a_later_report_queues_follow_ups_not_alerts(engine: Engine) -> None:
    queue_alerts(engine, ["Story"], ["slack", "console"])
    with Session(engine) as session:
        story_id = session.exec(select(Alert.story_id)).first()
        assert story_id is not None
        item_id = second_item(session, story_id)
        created = record_alerts(
            session, story_id, item_id, [rule_match(channels=["slack", "console"])], True
        )
        session.commit()
        assert created == []
        updates = session.exec(select(AlertUpdate).order_by(col(AlertUpdate.id))).all()
        assert [(u.item_id, u.state) for u in updates] == [(item_id, "pending")] * 2


def test_backfill_records_external_alerts_and_their_follow_ups(engine: Engine) -> None:
    queue_alerts(engine, ["Story"], [])
    with Session(engine) as session:
        item = session.exec(select(Item)).one()
        assert item.id is not None and item.story_id is not None
        alerts = record_alerts(
            session, item.story_id, item.id, [rule_match(channels=["slack", "console"])], False
        )
        assert [(a.channel, a.state) for a in alerts] == [
            ("slack", "recorded"),
            ("console", "pending"),
        ]
        later = second_item(session, item.story_id)
        record_alerts(session, item.story_id, later, [], False)
        session.commit()
        states = {u.state for u in session.exec(select(AlertUpdate)).all()}
        assert states == {"recorded", "pending"}


def test_digest_rule_waits_for_its_window(engine: Engine) -> None:
    queue_alerts(engine, ["Story"], [])
    with Session(engine) as session:
        item = session.exec(select(Item)).one()
        assert item.id is not None and item.story_id is not None
        [alert] = record_alerts(
            session, item.story_id, item.id, [rule_match(channels=["slack"], digest="hourly")], True
        )
        assert alert.digest_at is not None and alert.digest_at.minute == 0
        assert alert.next_attempt_at == alert.digest_at


def test_window_end() -> None:
    now = datetime(2025, 10, 18, 21, 23, 5, tzinfo=UTC)
    assert window_end(now, timedelta(hours=1)) == datetime(2025, 10, 18, 22, tzinfo=UTC)
    assert window_end(now, timedelta(days=1)) == datetime(2025, 10, 19, tzinfo=UTC)
