"""`monitor sources add` discovers a page's feed and writes it; `monitor sources` shows health."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp import web
from daemon_support import Entry, FeedServer
from typer.testing import CliRunner

from monitor.cli import app


async def test_sources_add_discovers_the_feed_and_listing_shows_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    async def home(request: web.Request) -> web.Response:
        page = "<html><head><link rel='alternate' type='application/atom+xml' href='/atom'>"
        page += "<link rel='alternate' type='application/rss+xml' href='/rss'></head></html>"
        return web.Response(text=page, content_type="text/html")

    feed_server.routes["/"] = home
    feed_server.feed("/rss", [Entry("a", "One")], title="Harbour News")
    sources = tmp_path / "sources.yaml"
    sources.write_text("# my sources\nsources:\n  - url: https://example.org/feed.xml\n")
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, app, ["sources", "add", feed_server.url("/"), "-s", str(sources)]
    )
    assert result.exit_code == 0, result.output
    text = sources.read_text()
    assert text.startswith("# my sources\n") and f"url: {feed_server.url('/rss')}" in text
    assert "name: Harbour News" in text
    again = await asyncio.to_thread(
        runner.invoke, app, ["sources", "add", feed_server.url("/rss"), "-s", str(sources)]
    )
    assert again.exit_code == 1 and "already" in again.output
    db = f"sqlite:///{tmp_path / 'm.db'}"
    listing = runner.invoke(app, ["sources", "-s", str(sources), "--database-url", db, "--json"])
    assert listing.exit_code == 0, listing.output
    rows = json.loads(listing.output)
    assert [(r["name"], r["status"]) for r in rows] == [
        ("https://example.org/feed.xml", "new"),
        ("Harbour News", "new"),
    ]


def test_sources_check_reports_file_and_line(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - url: https://example.org/a\n    interval: soon\n")
    result = CliRunner().invoke(app, ["sources", "check", "-s", str(sources)])
    assert result.exit_code == 2
    assert f"{sources}:3:15: sources.0.interval" in " ".join(result.output.split())
