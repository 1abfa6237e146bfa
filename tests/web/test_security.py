"""Safe by default: loopback unless credentials, CSRF on changes, escaping, strict headers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.config import Settings
from monitor.store.models import Item, Source, Story
from monitor.web import make_app
from monitor.web.security import Access, check_bind
from tests.web.conftest import HOSTILE_TITLE, monitor


def settings(engine: Engine, watchlists_dir: Path) -> Settings:
    return Settings(database_url=str(engine.url), watchlists=watchlists_dir)


async def client_for(app: object) -> TestClient:  # type: ignore[type-arg]
    client = TestClient(TestServer(app, host="127.0.0.1"))  # type: ignore[arg-type]
    await client.start_server()
    return client


@pytest.fixture
async def console(engine: Engine, watchlists_dir: Path) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    with Session(engine) as session:
        source = Source(key="file:///x", kind="file", name="<b>outlet</b>")
        story = Story(title=HOSTILE_TITLE, item_count=1)
        session.add_all([source, story])
        session.flush()
        assert source.id and story.id
        session.add(
            Item(
                source_id=source.id,
                content_hash="h",
                title=HOSTILE_TITLE,
                text="body",
                story_id=story.id,
                url="javascript:alert(1)",
            )
        )
        session.commit()
    client = await client_for(make_app(engine, settings(engine, watchlists_dir), Access()))
    yield client
    await client.close()


async def test_feed_text_is_escaped_in_html(console: TestClient) -> None:  # type: ignore[type-arg]
    for path in ("/stories", "/stories/1", "/sources"):
        html = await (await console.get(path)).text()
        assert "<script>window.pwned" not in html and "<b>outlet</b>" not in html
    html = await (await console.get("/stories/1")).text()
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "javascript:" not in html


async def test_security_headers_on_every_response(console: TestClient) -> None:  # type: ignore[type-arg]
    for path in ("/stories", "/stories/999", "/api/stories", "/api/nothing", "/static/style.css"):
        response = await console.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_state_changes_need_the_csrf_token(console: TestClient) -> None:  # type: ignore[type-arg]
    assert (await console.post("/stories/1/mute", data={"muted": "1"})).status == 403
    assert (await console.post("/api/stories/1/mute", json={"muted": True})).status == 403
    await console.get("/stories")  # sets the cookie
    token = console.session.cookie_jar.filter_cookies(console.make_url("/"))["monitor_csrf"].value
    wrong = await console.post(
        "/api/stories/1/mute", json={"muted": True}, headers={"X-CSRF-Token": "forged"}
    )
    assert wrong.status == 403
    form = await console.post(
        "/stories/1/mute", data={"muted": "1", "csrf_token": token}, allow_redirects=False
    )
    assert form.status == 303 and form.headers["Location"] == "/stories/1"
    api = await console.post(
        "/api/stories/1/mute", json={"muted": False}, headers={"X-CSRF-Token": token}
    )
    assert api.status == 200 and (await api.json())["muted"] is False


async def test_credentials_when_configured(engine: Engine, watchlists_dir: Path) -> None:
    access = Access(token="s3cret", user="ana", password="pw")
    client = await client_for(make_app(engine, settings(engine, watchlists_dir), access))
    try:
        assert (await client.get("/stories")).status == 401
        basic = "Basic " + base64.b64encode(b"ana:pw").decode()
        assert (await client.get("/stories", headers={"Authorization": basic})).status == 200
        bad = "Basic " + base64.b64encode(b"ana:nope").decode()
        assert (await client.get("/stories", headers={"Authorization": bad})).status == 401
        bearer = {"Authorization": "Bearer s3cret"}
        assert (await client.get("/api/stories", headers=bearer)).status == 200
        # a bearer token is never sent by a browser on its own: no CSRF token needed
        mute = await client.post("/api/stories/1/mute", json={"muted": True}, headers=bearer)
        assert mute.status == 404  # no story yet, but past auth and CSRF
    finally:
        await client.close()


def test_listening_beyond_loopback_needs_credentials() -> None:
    check_bind("127.0.0.1", Access())
    check_bind("::1", Access())
    with pytest.raises(ValueError, match="MONITOR_WEB_TOKEN"):
        check_bind("0.0.0.0", Access())
    check_bind("0.0.0.0", Access(token="t"))
    result = monitor(
        "serve",
        "--host",
        "0.0.0.0",
        "--database-url",
        "sqlite:///:memory:",
        env={"MONITOR_WEB_TOKEN": "", "MONITOR_WEB_USER": ""},
    )
    assert result.returncode == 2 and "refusing to listen on 0.0.0.0" in result.stderr
