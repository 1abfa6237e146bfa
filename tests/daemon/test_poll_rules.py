"""Adaptive interval, gone dark and recovery, flood rules, corrections, full text, /metrics."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from daemon_support import START, Clock, DaemonFactory, Entry, FeedServer, source
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.store.models import Alert, Item, ItemVersion, Source

COUP = "Moscow warned Baku of a coup planned by Ramiz Mehdiyev."


def one(engine: Engine, model: type, **where: object) -> object:
    with Session(engine) as session:
        query = select(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.exec(query).one()


def alerts(engine: Engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.exec(select(Alert).order_by(Alert.id)).all())


async def test_adaptive_interval_within_bounds(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    url = feed_server.url("/feed")
    entries: list[Entry] = []
    intervals = []
    async with make_daemon(min_interval=20, max_interval=200) as daemon:
        daemon.use_sources([source(url, interval=80)])
        for n in range(6):
            if n < 3:  # busy, then quiet
                entries.append(Entry(f"e{n}", f"Report {n}"))
            feed_server.feed("/feed", list(entries))
            await daemon.poll_due()
            s = one(engine, Source, key=url)
            assert isinstance(s, Source)
            intervals.append(s.interval_s)
            clock.advance(hours=1)
    assert intervals == [40, 20, 20, 30, 45, 67.5]


async def test_gone_dark_alerts_once_and_recovery_notice(
    feed_server: FeedServer,
    make_daemon: DaemonFactory,
    engine: Engine,
    clock: Clock,
    tmp_path: Path,
) -> None:
    url = feed_server.url("/feed")
    jsonl = tmp_path / "alerts.jsonl"
    entries = []
    async with make_daemon(jsonl, dark_min=3600 * 12, max_interval=3600) as daemon:
        daemon.use_sources([source(url)])
        for n in range(4):  # its rhythm: a new item every hour
            entries.append(Entry(f"e{n}", f"Report {n}"))
            feed_server.feed("/feed", list(entries))
            await daemon.poll_due()
            clock.advance(hours=1)
        for _ in range(30):  # then 60 hours of a feed that answers 200 but never changes
            clock.advance(hours=2)
            await daemon.poll_due()
        s = one(engine, Source, key=url)
        assert isinstance(s, Source) and s.notice_state == "dark"
        feed_server.feed("/feed", [*entries, Entry("b", "Alive again")])
        clock.advance(hours=2)
        await daemon.poll_due()
    notices = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [n["rule"] for n in notices if n.get("operator")] == ["source-dark", "source-recovered"]
    assert [a.state for a in alerts(engine) if a.watchlist == "operator"] == ["sent", "sent"]


async def test_failing_source_alerts_operator_once(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503)

    feed_server.routes["/feed"] = broken
    async with make_daemon(failing_after=3, backoff_max=60) as daemon:
        daemon.use_sources([source(feed_server.url("/feed"))])
        for _ in range(6):
            await daemon.poll_due()
            clock.advance(minutes=5)
    assert [a.rule for a in alerts(engine)] == ["source-failing"]


async def test_flood_rules_first_poll_old_items_and_source_back_after_days(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    url = feed_server.url("/feed")
    old = START - timedelta(days=3)
    first = [Entry("a", "Coup warning", COUP, published=START)]
    feed_server.feed("/feed", first)
    async with make_daemon(back_after=86400 * 2) as daemon:
        daemon.use_sources([source(url)])
        await daemon.poll_due()  # first poll: recorded, not sent
        assert [a.state for a in alerts(engine)] == ["recorded"] * 2
        clock.advance(hours=1)
        stale = Entry(
            "b", "Russian House closed", "Rossotrudnichestvo's Russian House shut.", published=old
        )
        feed_server.feed("/feed", [*first, stale])
        await daemon.poll_due()  # an item older than the horizon: recorded
        assert alerts(engine)[-1].state == "recorded"
        clock.advance(hours=1)
        fresh = Entry(
            "c",
            "Putin calls Aliyev",
            "Vladimir Putin called Ilham Aliyev about the coup.",
            published=clock.now,
        )
        feed_server.feed("/feed", [*first, stale, fresh])
        await daemon.poll_due()  # a fresh item from a known source: sent
        assert alerts(engine)[-1].state == "sent"
        count = len(alerts(engine))
        clock.advance(days=4)  # back after days: its backlog is not alerted
        later = Entry(
            "d", "Treason case", "Ramiz Mehdiyev charged with treason.", published=clock.now
        )
        feed_server.feed("/feed", [*first, stale, fresh, later])
        s = one(engine, Source, key=url)
        assert isinstance(s, Source)
        with Session(engine) as session:  # it was down: last success four days ago
            db = session.get(Source, s.id)
            assert db is not None
            db.last_success_at = clock.now - timedelta(days=4)
            session.add(db)
            session.commit()
        await daemon.poll_due()
    assert all(a.state == "recorded" for a in alerts(engine)[count:])
    with Session(engine) as session:
        assert len(session.exec(select(Item)).all()) == 4


async def test_correction_updates_item_keeps_version_and_alerts_only_on_new_match(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    url = feed_server.url("/feed")
    feed_server.feed("/feed", [Entry("a", "Tensions in Baku", "Ramiz Mehdiyev spoke.")])
    async with make_daemon() as daemon:
        daemon.use_sources([source(url)])
        await daemon.poll_due()  # first poll: recorded
        clock.advance(hours=1)
        feed_server.feed("/feed", [Entry("a", "Tensions in Baku", "Ramiz Mehdiyev spoke again.")])
        await daemon.poll_due()  # corrected; same rule: no new alert
        assert len(alerts(engine)) == 1
        clock.advance(hours=1)
        feed_server.feed(
            "/feed", [Entry("a", "Coup in Baku", "Ramiz Mehdiyev planned a coup, Moscow says.")]
        )
        await daemon.poll_due()  # a new rule matches: one new alert
        assert daemon.metrics.corrections._value.get() == 2
    with Session(engine) as session:
        item = session.exec(select(Item)).one()
        versions = session.exec(select(ItemVersion).order_by(ItemVersion.id)).all()
    assert item.title == "Coup in Baku"
    assert [v.text for v in versions] == ["Ramiz Mehdiyev spoke.", "Ramiz Mehdiyev spoke again."]
    assert [(a.rule, a.state) for a in alerts(engine)] == [
        ("mehdiyev", "recorded"),
        ("coup-in-baku", "sent"),
    ]


async def test_full_text_of_summary_only_entries_fetched_once(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    article = (
        "<html><head><title>Full</title></head><body><article>"
        + "".join(
            f"<p>Paragraph {n} of the full article about the harbour and its ships, at length.</p>"
            for n in range(12)
        )
        + "</article></body></html>"
    )

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=article, content_type="text/html")

    feed_server.routes["/article/1"] = page
    feed_server.feed(
        "/feed", [Entry("a", "Harbour", "Short summary.", link=feed_server.url("/article/1"))]
    )
    async with make_daemon(fulltext_min_chars=200) as daemon:
        daemon.use_sources([source(feed_server.url("/feed"))])
        await daemon.poll_due()
        clock.advance(hours=1)
        await daemon.poll_due()
    item = one(engine, Item, external_id="a")
    assert isinstance(item, Item) and "Paragraph 11" in item.text
    assert len(feed_server.hits("/article/1")) == 1
    assert feed_server.hits("/robots.txt")


async def test_metrics_endpoint(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine
) -> None:
    feed_server.feed("/feed", [Entry("a", "One"), Entry("b", "Two")])
    async with make_daemon() as daemon:
        daemon.use_sources([source(feed_server.url("/feed"))])
        await daemon.poll_due()
        server, _ = daemon.metrics.serve(0, "127.0.0.1")
        try:
            port = server.server_port
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        finally:
            server.shutdown()
    assert 'monitor_polls_total{result="ok"} 1.0' in body
    assert "monitor_items_total 2.0" in body
    assert "monitor_fetch_seconds_count 1.0" in body
