"""../shared/eval/real-feeds served over HTTP: every entry its expected result lists is stored."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web
from daemon_support import DaemonFactory, FeedServer, source
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.normalize.urls import canonical_url
from monitor.store.models import Item


def cases(shared: Path) -> dict[str, tuple[Path, Path]]:
    folder = shared / "eval" / "real-feeds"
    found = {p.stem: (p, p.with_suffix(".json")) for p in folder.glob("*.xml")}
    found["json_feed_sample"] = (
        folder / "json_feed_sample.json",
        folder / "json_feed_sample.expected.json",
    )
    return found


async def test_every_expected_entry_is_stored(
    feed_server: FeedServer, make_daemon: DaemonFactory, engine: Engine, shared_dir: Path
) -> None:
    feeds = cases(shared_dir)
    for name, (feed, _) in feeds.items():
        body = feed.read_bytes()

        async def serve(request: web.Request, body: bytes = body) -> web.Response:
            return web.Response(body=body)  # no Content-Type: the bytes must speak for themselves

        feed_server.routes[f"/{name}"] = serve
    async with make_daemon(fulltext=False, max_bytes=10_000_000) as daemon:
        daemon.use_sources([source(feed_server.url(f"/{name}")) for name in feeds])
        outcomes = await daemon.poll_due()
    assert [o.error for o in outcomes if o.error] == []
    with Session(engine) as session:
        stored = session.exec(select(Item)).all()
    links = {i.canonical_url for i in stored}
    titles = {i.title for i in stored}
    missing = []
    for name, (_, expected) in feeds.items():
        for entry in json.loads(expected.read_text())["entries"]:
            link = canonical_url(entry.get("link"))
            if link not in links and (link or entry.get("title") not in titles):
                missing.append((name, entry.get("link") or entry.get("title")))
    assert missing == []
