"""Watchlist validation state and the dry run of a draft, over the backfilled seeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine

from monitor.config import Settings
from monitor.pipeline import Pipeline
from monitor.web import make_app
from monitor.web.security import Access
from tests.web.test_decisions import backfill


@pytest.fixture
async def console(
    pipeline: Pipeline, engine: Engine, seeds_dir: Path, watchlists_dir: Path
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    backfill(pipeline, engine, seeds_dir)
    app = make_app(
        engine, Settings(database_url=str(engine.url), watchlists=watchlists_dir), Access()
    )
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    await client.get("/watchlists")
    yield client
    await client.close()


def token(client: TestClient) -> str:  # type: ignore[type-arg]
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["monitor_csrf"].value


async def test_dry_run_shows_new_and_lost_hits(console: TestClient, watchlists_dir: Path) -> None:  # type: ignore[type-arg]
    live = (watchlists_dir / "azerbaijan-russia.yaml").read_text(encoding="utf-8")
    draft = live.replace("  - name: russian-soft-power\n", "  - name: soft-power\n")
    response = await console.post(
        "/api/watchlists/dry-run",
        json={"yaml": draft, "name": "azerbaijan-russia.yaml"},
        headers={"X-CSRF-Token": token(console)},
    )
    result = await response.json()
    assert response.status == 200 and result["valid"] and result["items_checked"] == 3
    assert {h["rule"] for h in result["new"]} == {"soft-power"}
    assert {h["rule"] for h in result["lost"]} == {"russian-soft-power"}
    coup = next(r for r in result["rules"] if r["rule"] == "coup-in-baku")
    assert any("Mekhtiyev" in term for term in coup["stories"][0]["terms"])


async def test_dry_run_page_reports_problems_of_an_uploaded_draft(console: TestClient) -> None:  # type: ignore[type-arg]
    form = {"csrf_token": token(console), "yaml": "version: 1\nrules: [{name: r, any: [ghost]}]\n"}
    html = await (await console.post("/watchlists/dry-run", data=form)).text()
    assert "names &#39;ghost&#39;, no actor or keyword of that name" in html
    page = await (await console.get("/watchlists")).text()
    assert "azerbaijan-russia" in page and "valid" in page
