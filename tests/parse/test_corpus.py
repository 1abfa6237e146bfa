"""Corpus reading: formats told apart by content, hostile and real-world feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.parse.corpus import parse_any_feed, parse_json_document, read_path
from monitor.parse.entry import ParseError
from monitor.parse.feed import parse_feed


def test_json_feed_array_and_lines_are_told_apart_by_content() -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "T",
        "items": [{"id": "1", "url": "https://example.org/a", "content_text": "x", "title": "A"}],
    }
    assert [e.external_id for e in parse_json_document(json.dumps(feed).encode()).entries] == ["1"]
    array = [{"id": "a", "title": "One", "text": "t"}, {"id": "b", "title": "Two", "text": "t"}]
    assert [e.external_id for e in parse_json_document(json.dumps(array).encode()).entries] == [
        "a",
        "b",
    ]
    lines = "\n".join(json.dumps(x | {"unknown": 1}) for x in array) + "\nnot json\n"
    parsed = parse_json_document(lines.encode())
    assert [e.title for e in parsed.entries] == ["One", "Two"]
    assert parsed.skipped and "line 3" in parsed.skipped[0]


def test_html_where_a_feed_was_expected_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="HTML page"):
        parse_any_feed(b"<!DOCTYPE html><html><body>hi</body></html>")


def test_a_feed_with_undeclared_prefixes_and_junk_before_the_root_is_recovered(
    shared_dir: Path,
) -> None:
    feed = parse_feed((shared_dir / "eval/real-feeds/malformed_rss_namespaced.xml").read_bytes())
    assert [e.url for e in feed.entries] == [
        "https://example.com/entry1",
        "https://example.com/entry2",
    ]
    assert feed.warning  # recovered, but the breakage is still counted


def test_relative_links_resolve_against_the_feed_link() -> None:
    rss = b"""<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>
    <item><title>A</title><link>/a/1</link><guid>g1</guid></item></channel></rss>"""
    assert parse_feed(rss).entries[0].url == "https://news.example/a/1"


def test_loose_documents_of_a_folder_form_one_source_with_relative_ids(seeds_dir: Path) -> None:
    batches = list(read_path(seeds_dir))
    assert len(batches) == 1
    assert batches[0].key == seeds_dir.resolve().as_uri()
    assert [e.external_id for e in batches[0].entries] == sorted(
        p.name for p in seeds_dir.iterdir()
    )
