"""Normalization of the seed articles and of the edge cases sources send."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.normalize.article import normalize
from monitor.normalize.urls import canonical_url
from monitor.parse.entry import Entry


def seed(seeds_dir: Path, prefix: str, **kwargs: object):  # type: ignore[no-untyped-def]
    path = next(seeds_dir.glob(f"{prefix}_*.txt"))
    return normalize(Entry(path.name, None, None, path.read_text(), "text"), **kwargs)  # type: ignore[arg-type]


def test_english_report_title_language_boilerplate_and_estimated_date(seeds_dir: Path) -> None:
    article = seed(seeds_dir, "000")
    assert article.title.startswith("Moscow warns Azerbaijan of planned coup")
    assert article.language == "en"
    assert "Terms of use" not in article.text and "pdfshareprint" not in article.text
    # no dateline: the latest date mentioned (9 October 2025) is only a lower bound
    assert article.published == datetime(2025, 10, 9, tzinfo=UTC)
    assert article.published_kind == "estimated" and article.published_estimated


def test_turkish_dateline_in_the_source_time_zone(seeds_dir: Path) -> None:
    article = seed(seeds_dir, "001", tz=ZoneInfo("Europe/Istanbul"))
    assert article.language == "tr"
    assert article.published_kind == "dateline"
    assert article.published == datetime(2025, 10, 18, 18, 23, tzinfo=UTC)


def test_analysis_dateline_after_the_outlet_name(seeds_dir: Path) -> None:
    article = seed(seeds_dir, "002")
    assert article.title == "Internal Political Aspects of I. Aliyev's Initiative toward Russia"
    assert article.published == datetime(2025, 2, 21, tzinfo=UTC)
    assert article.published_kind == "dateline"


def test_a_source_date_in_the_future_is_not_trusted() -> None:
    entry = Entry(
        "x",
        None,
        "A headline of several words",
        "No dates here at all.",
        "text",
        published=datetime(2099, 1, 1, tzinfo=UTC),
    )
    article = normalize(entry, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert article.published is None and article.published_kind == "unknown"


def test_html_entries_lose_markup_and_keep_text() -> None:
    entry = Entry(
        "x", "https://e.org/a", "T", "<p>Hello <b>world</b></p><script>x()</script>", "html"
    )
    assert normalize(entry).text == "Hello world"


def test_canonical_url_drops_tracking_fragment_default_port_and_www() -> None:
    assert (
        canonical_url("HTTP://www.Example.org:80/a/?utm_source=x&id=3#top")
        == "https://example.org/a?id=3"
    )
    assert canonical_url("mailto:x@y") is None
    assert canonical_url("https://[bad") is None
