"""RSS 0.9x/1.0/2.0 and Atom through feedparser; JSON Feed by hand (feedparser has none)."""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from monitor.normalize.text import fragment_text
from monitor.parse.entry import Entry, ParseError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Feed:
    title: str | None
    entries: list[Entry]
    warning: str | None = None  # a recoverable problem (feedparser's bozo) worth counting
    skipped: list[str] = field(default_factory=list)


def _struct_time_to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _entry_content(raw: Any) -> tuple[str, str]:
    """The fullest body the entry carries: content beats summary."""
    for item in raw.get("content") or []:
        value = item.get("value") or ""
        if value.strip():
            kind = "html" if "html" in (item.get("type") or "html") else "text"
            return value, kind
    summary = raw.get("summary") or ""
    detail = raw.get("summary_detail") or {}
    kind = "text" if detail.get("type") == "text/plain" else "html"
    return summary, kind


_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)[\s>]")
_DECLARED_PREFIX = re.compile(rb"xmlns:([\w.-]+)\s*=")
_USED_PREFIX = re.compile(rb"</?([A-Za-z][\w.-]*):[A-Za-z]")


def _recover(data: bytes) -> bytes | None:
    """A second chance for a feed broken the way real sites break them: junk before the root
    element (a doubled XML declaration) and element prefixes no namespace declares
    (``<rss:item>``). Returns the repaired bytes, or None if there is nothing to repair."""
    root = _ROOT.search(data)
    if root is None:
        return None
    repaired = data[root.start() :]
    undeclared = set(_USED_PREFIX.findall(repaired)) - set(_DECLARED_PREFIX.findall(repaired))
    undeclared.discard(b"rdf")
    if undeclared:
        names = b"|".join(re.escape(p) for p in sorted(undeclared))
        repaired = re.sub(rb"(</?)(?:" + names + rb"):", rb"\1", repaired)
    return repaired if repaired != data else None


def _feedparser(data: bytes, headers: dict[str, str] | None) -> Any:
    # Entry HTML only ever becomes plain text (normalize.text.fragment_text drops scripts and
    # styles), and is shown nowhere as HTML, so feedparser's sanitizer and link rewriting,
    # two thirds of its time, buy nothing.
    return feedparser.parse(
        data, response_headers=headers or {}, sanitize_html=False, resolve_relative_uris=False
    )


def _title(raw: Any) -> str | None:
    """An entry's title as text: an HTML title (Atom ``type="html"``) loses its markup."""
    title = raw.get("title") or None
    if title and (raw.get("title_detail") or {}).get("type") == "text/html":
        title = " ".join(fragment_text(title).split()) or None
    return title


def parse_feed(
    data: bytes, base_url: str | None = None, headers: dict[str, str] | None = None
) -> Feed:
    """Parse RSS or Atom. A bozo feed that still holds entries is used, its error kept."""
    parsed = _feedparser(data, headers)
    if parsed.bozo and not parsed.entries:
        repaired = _recover(data)
        if repaired is not None:
            parsed = _feedparser(repaired, headers)
    if parsed.bozo and not parsed.entries:
        reason = str(parsed.get("bozo_exception") or "not a feed")
        raise ParseError(f"not a readable feed: {reason}")
    if not parsed.entries and not parsed.get("version"):
        raise ParseError("not a feed: no RSS, Atom or RDF root element")
    feed_title = parsed.feed.get("title") or None
    base = parsed.feed.get("link") or base_url
    entries: list[Entry] = []
    skipped: list[str] = []
    for raw in parsed.entries:
        content, kind = _entry_content(raw)
        link = raw.get("link") or None
        if link and base:
            link = urljoin(base, link)  # relative links resolve against the feed's own link
        title = _title(raw)
        if not (title or content.strip() or link):
            skipped.append("entry with no title, content or link")
            continue
        published = _struct_time_to_datetime(
            raw.get("published_parsed") or raw.get("updated_parsed") or raw.get("created_parsed")
        )
        entries.append(
            Entry(
                external_id=raw.get("id") or None,
                url=link,
                title=title,
                content=content,
                content_type="html" if kind == "html" else "text",
                published=published,
                language=(raw.get("language") or parsed.feed.get("language") or None),
                outlet=feed_title,
            )
        )
    warning = f"ill-formed feed: {parsed.get('bozo_exception')}" if parsed.bozo else None
    return Feed(title=feed_title, entries=entries, warning=warning, skipped=skipped)


def is_json_feed(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and "jsonfeed.org/version" in str(document.get("version", ""))
        and isinstance(document.get("items"), list)
    )


def parse_json_feed(document: dict[str, Any], base_url: str | None = None) -> Feed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""
    from monitor.normalize.dates import parse_date  # a leaf module; no import cycle

    title = document.get("title") or None
    base = document.get("home_page_url") or base_url
    language = document.get("language") or None
    entries: list[Entry] = []
    skipped: list[str] = []
    for raw in document["items"]:
        if not isinstance(raw, dict):
            skipped.append("item that is not an object")
            continue
        html, text = raw.get("content_html"), raw.get("content_text")
        content, kind = (html, "html") if html else (text or raw.get("summary") or "", "text")
        url = raw.get("url") or raw.get("external_url") or None
        if url and base:
            url = urljoin(base, str(url))
        entries.append(
            Entry(
                external_id=str(raw["id"]) if raw.get("id") is not None else None,
                url=url,
                title=raw.get("title") or None,
                content=str(content),
                content_type="html" if kind == "html" else "text",
                published=parse_date(raw.get("date_published") or raw.get("date_modified")),
                language=raw.get("language") or language,
                outlet=title,
            )
        )
    return Feed(title=title, entries=entries, skipped=skipped)
