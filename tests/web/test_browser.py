"""End to end in a real headless Chromium against `monitor serve` over the backfilled seeds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from tests.web.conftest import HOSTILE_TITLE, REPO


def test_coup_story_shows_reports_match_and_related(
    browser: Any, server: str, artifacts: Path
) -> None:
    page = browser.new_page()
    page.goto(f"{server}/stories")
    coup = page.locator("tr.story", has_text="planned coup")
    assert coup.count() == 1
    assert sorted(coup.locator(".lang").all_inner_texts()) == ["EN", "TR"]

    coup.locator("a.headline").click()
    page.wait_for_url(f"{server}/stories/*")
    reports = page.locator("li.report")
    assert sorted(reports.evaluate_all("els => els.map(e => e.dataset.language)")) == ["en", "tr"]

    hit = page.locator('mark.hit[data-name="Ramiz Mehdiyev"]', has_text="Mekhtiyev").first
    assert hit.is_visible()
    assert hit.get_attribute("data-method") in ("folded", "fuzzy")
    how = hit.locator("xpath=ancestor::li[1]").locator(".how")
    assert "Ramiz Mehdiyev" in how.inner_text()

    related = page.locator("a.related")
    assert related.count() == 1
    assert "Aliyev's Initiative toward Russia" in related.inner_text()

    shot = artifacts / "story-page.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    if os.environ.get("MONITOR_UPDATE_SCREENSHOT"):  # refresh the README's picture on request
        shutil.copyfile(shot, REPO / "docs" / "story-page.png")

    related.click()
    page.wait_for_url(f"{server}/stories/*")
    assert "Mehdiyev" in page.locator("#matches").inner_text()
    page.close()


def test_hostile_headline_renders_as_text(browser: Any, server: str) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server}/stories")
    headline = page.locator("a.headline", has_text="window.pwned")
    assert headline.inner_text() == HOSTILE_TITLE
    assert headline.locator("script, img").count() == 0
    headline.click()
    page.wait_for_url(f"{server}/stories/*")
    assert page.locator("h1").inner_text().startswith("<script>")
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    page.close()


def test_analyst_mutes_a_story_in_the_browser(browser: Any, serve: Any) -> None:
    url = serve()  # its own database: this test changes it
    page = browser.new_page()
    page.goto(f"{url}/stories")
    page.locator("a.headline", has_text="planned coup").click()
    page.get_by_role("button", name="Mute (no more alerts)").click()
    page.wait_for_load_state()
    assert page.locator("h1 .muted-badge").is_visible()
    assert "mute via web" in page.locator(".decisions").inner_text()
    page.close()
