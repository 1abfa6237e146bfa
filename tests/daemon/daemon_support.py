"""A feed server on 127.0.0.1 that misbehaves on request, a settable clock, and a daemon."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rich.console import Console
from sqlalchemy import Engine

from monitor.alert.channels.console import ConsoleChannel
from monitor.config import DaemonSettings, Settings, StorySettings
from monitor.daemon.service import Daemon
from monitor.pipeline import Pipeline
from monitor.sources.config import SourceConfig
from monitor.watchlist.loader import load_watchlists

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Entry:
    guid: str | None
    title: str
    text: str = "Body text of the report."
    link: str | None = None
    published: datetime | None = None


def rss(entries: list[Entry], title: str = "Test feed", link: str = "") -> bytes:
    items = []
    for e in entries:
        parts = [
            f"<title>{escape(e.title)}</title>",
            f"<description>{escape(e.text)}</description>",
        ]
        if e.guid is not None:
            parts.append(f"<guid isPermaLink='false'>{escape(e.guid)}</guid>")
        if e.link is not None:
            parts.append(f"<link>{escape(e.link)}</link>")
        if e.published is not None:
            parts.append(f"<pubDate>{format_datetime(e.published)}</pubDate>")
        items.append(f"<item>{''.join(parts)}</item>")
    channel = f"<title>{escape(title)}</title><link>{escape(link)}</link>{''.join(items)}"
    head = "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'>"
    return f"{head}<channel>{channel}</channel></rss>".encode()


@dataclass
class FeedServer:
    """Routes are set per test; every request is logged with its headers."""

    server: TestServer
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def hits(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]

    def feed(self, path: str, entries: list[Entry], etag: str | None = None, **kw: Any) -> None:
        """Serve ``entries`` at ``path``, answering 304 to a matching If-None-Match."""
        body = rss(entries, **kw)

        async def handler(request: web.Request) -> web.StreamResponse:
            if etag and request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            headers = {"ETag": etag} if etag else {}
            return web.Response(body=body, content_type="application/rss+xml", headers=headers)

        self.routes[path] = handler


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    holder: list[FeedServer] = []

    async def dispatch(request: web.Request) -> web.StreamResponse:
        fs = holder[0]
        fs.requests.append((request.path, dict(request.headers)))
        handler = fs.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", dispatch)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    holder.append(FeedServer(server))
    yield holder[0]
    await server.close()


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def settings_for_tests(**overrides: Any) -> DaemonSettings:
    values: dict[str, Any] = {
        "tick": 0.2,
        "interval": 60,
        "min_interval": 10,
        "max_interval": 3600,
        "total_timeout": 2.0,
        "connect_timeout": 1.0,
        "max_bytes": 200_000,
        "allow_addresses": ["127.0.0.1/32"],
        "fulltext_min_chars": 0,
    }
    values.update(overrides)
    return DaemonSettings(**values)


DaemonFactory = Callable[..., Daemon]


@pytest.fixture
def make_daemon(
    engine: Engine, tmp_path: Path, watchlists_dir: Path, clock: Clock
) -> DaemonFactory:
    def build(jsonl: Path | None = None, **overrides: Any) -> Daemon:
        settings = Settings(
            database_url=str(engine.url),
            watchlists=watchlists_dir,
            daemon=settings_for_tests(**overrides),
            story=StorySettings(model="none"),
        )
        pipeline = Pipeline(engine, settings.story, load_watchlists(watchlists_dir), None, True)
        console = ConsoleChannel(Console(quiet=True), jsonl or tmp_path / "alerts.jsonl")
        return Daemon(settings, engine, pipeline, console, clock=clock)

    return build


def source(url: str, **kw: Any) -> SourceConfig:
    return SourceConfig(url=url, **kw)
