"""Real HTTP servers on 127.0.0.1 that misbehave on purpose; the daemon copes and goes on."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web
from daemon_support import START, Clock, DaemonFactory, Entry, FeedServer, rss, source
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.store.models import Item, Source


def items(engine: Engine) -> list[Item]:
    with Session(engine) as session:
        return list(session.exec(select(Item).order_by(Item.id)).all())


def state(engine: Engine, url: str) -> Source:
    with Session(engine) as session:
        found = session.exec(select(Source).where(Source.key == url)).one()
        return found


def good_feed(fs: FeedServer) -> str:
    fs.feed("/good", [Entry("g1", "A quiet day at the harbour", link="http://127.0.0.1/g1")])
    return fs.url("/good")


async def test_conditional_get_and_etag_change(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    url = feed_server.url("/feed")
    feed_server.feed("/feed", [Entry("a", "First report")], etag='"v1"')
    async with make_daemon() as daemon:
        daemon.use_sources([source(url)])
        await daemon.poll_due()
        clock.advance(hours=1)
        await daemon.poll_due()  # unchanged: a 304, nothing parsed
        assert [h.get("If-None-Match") for h in feed_server.hits("/feed")] == [None, '"v1"']
        assert daemon.metrics.polls.labels("not_modified")._value.get() == 1
        feed_server.feed("/feed", [Entry("a", "First report"), Entry("b", "Second")], etag='"v2"')
        clock.advance(hours=1)
        await daemon.poll_due()
    assert [i.external_id for i in items(engine)] == ["a", "b"]
    assert state(engine, url).etag == '"v2"'
    assert state(engine, url).consecutive_failures == 0


async def test_429_retry_after_is_honoured_and_others_keep_polling(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "1800"})

    feed_server.routes["/busy"] = busy
    good = good_feed(feed_server)
    async with make_daemon() as daemon:
        daemon.use_sources([source(feed_server.url("/busy")), source(good)])
        await daemon.poll_due()
        clock.advance(minutes=10)  # good is due again (interval 60 s), busy is not
        await daemon.poll_due()
    busy_state = state(engine, feed_server.url("/busy"))
    assert len(feed_server.hits("/busy")) == 1
    assert len(feed_server.hits("/good")) == 2
    assert busy_state.next_poll_at == START + timedelta(seconds=1800)
    assert "429" in (busy_state.last_error or "")
    assert len(items(engine)) == 1


async def test_500s_back_off_exponentially_and_reset_on_success(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    feed_server.routes["/feed"] = broken
    url = feed_server.url("/feed")
    waits = []
    async with make_daemon(backoff_max=100_000, failing_after=99) as daemon:
        daemon.use_sources([source(url, interval=100)])
        for _ in range(4):
            await daemon.poll_due()
            s = state(engine, url)
            assert s.next_poll_at is not None
            waits.append((s.next_poll_at - clock.now).total_seconds())
            clock.now = s.next_poll_at
        assert state(engine, url).consecutive_failures == 4
        feed_server.feed("/feed", [Entry("x", "Back again")])
        await daemon.poll_due()
    # 100, 200, 400, 800 s, each within the ±25 % jitter
    for n, wait in enumerate(waits):
        assert 0.75 * 100 * 2**n <= wait <= 1.25 * 100 * 2**n
    assert state(engine, url).consecutive_failures == 0
    assert state(engine, url).last_error == "HTTP 500 Internal Server Error"


async def test_each_misbehaviour_is_recorded_and_the_good_source_still_polled(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine
) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(body=rss([Entry("s", "Slow")]))

    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=rss([Entry("h", "Huge", text="x" * 300_000)]))

    async def loop_a(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop-b")

    async def loop_b(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop-a")

    async def html(request: web.Request) -> web.Response:
        page = "<html><head><link rel='alternate' type='application/rss+xml' href='/good'>"
        page += "</head><body>Hi</body></html>"
        return web.Response(text=page, content_type="text/html")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"", content_type="application/rss+xml")

    routes = {
        "/slow": slow,
        "/huge": huge,
        "/loop-a": loop_a,
        "/loop-b": loop_b,
        "/html": html,
        "/empty": empty,
    }
    feed_server.routes.update(routes)
    good = good_feed(feed_server)
    expected = {
        "/slow": "timed out",
        "/huge": "response larger than 200000 bytes",
        "/loop-a": "redirect loop",
        "/html": "an HTML page, not a feed; the page announces a feed at " + good,
        "/empty": "empty response body",
    }
    async with make_daemon(total_timeout=0.5) as daemon:
        daemon.use_sources([source(feed_server.url(p)) for p in expected] + [source(good)])
        await daemon.poll_due()
        assert daemon.metrics.errors.labels("timeout")._value.get() == 1
    for path, reason in expected.items():
        s = state(engine, feed_server.url(path))
        assert s.last_error is not None and s.last_error.startswith(reason), (path, s.last_error)
        assert s.consecutive_failures == 1
    assert state(engine, good).last_success_at is not None
    assert [i.external_id for i in items(engine)] == ["g1"]


async def test_wrong_charsets_truncated_xml_and_odd_entries(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    cyrillic = (
        "<?xml version='1.0' encoding='windows-1251'?><rss version='2.0'><channel>"
        "<title>Лента</title><item><guid>c1</guid><title>Переворот в Баку</title>"
        "<description>Текст</description></item>"
        "</channel></rss>"
    ).encode("cp1251")

    async def mislabelled(request: web.Request) -> web.Response:
        # the header says UTF-8, the bytes are windows-1251 as the XML declaration says
        return web.Response(
            body=cyrillic, headers={"Content-Type": "application/xml; charset=utf-8"}
        )

    async def truncated(request: web.Request) -> web.Response:
        body = rss([Entry("t1", "Whole entry"), Entry("t2", "Cut entry", text="y" * 200)])
        return web.Response(body=body[: body.index(b"yyyy")], content_type="application/rss+xml")

    future = START + timedelta(days=30)
    odd = rss(
        [
            Entry("d1", "Relative link", link="/story/1"),
            Entry("d1", "Same guid again", link="/story/1-again"),
            Entry(None, "No link no guid no date"),
            Entry("f1", "From the future", link="/story/f", published=future),
        ],
        link=feed_server.url("/"),
    )

    async def odd_entries(request: web.Request) -> web.Response:
        return web.Response(body=odd, content_type="application/rss+xml")

    feed_server.routes.update(
        {"/cp1251": mislabelled, "/truncated": truncated, "/odd": odd_entries}
    )
    async with make_daemon() as daemon:
        daemon.use_sources([source(feed_server.url(p)) for p in ("/cp1251", "/truncated", "/odd")])
        await daemon.poll_due()
    stored = {i.external_id or i.title: i for i in items(engine)}
    assert stored["c1"].title == "Переворот в Баку"
    assert "t1" in stored and state(engine, feed_server.url("/truncated")).warnings >= 1
    assert stored["d1"].url == feed_server.url("/story/1") and stored["d1"].title == "Relative link"
    assert "No link no guid no date" in stored
    assert stored["f1"].published != future and stored["f1"].published_kind != "source"
    odd_state = state(engine, feed_server.url("/odd"))
    assert "repeat an id" in (odd_state.last_warning or "")
    assert all(
        state(engine, feed_server.url(p)).consecutive_failures == 0 for p in ("/cp1251", "/odd")
    )


async def test_permanent_redirect_is_remembered(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, clock: Clock
) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/new")

    feed_server.routes["/old"] = moved
    feed_server.feed("/new", [Entry("n", "New home")])
    async with make_daemon() as daemon:
        daemon.use_sources([source(feed_server.url("/old"))])
        await daemon.poll_due()
        clock.advance(hours=1)
        await daemon.poll_due()
    assert len(feed_server.hits("/old")) == 1 and len(feed_server.hits("/new")) == 2
    assert state(engine, feed_server.url("/old")).redirect_url == feed_server.url("/new")
