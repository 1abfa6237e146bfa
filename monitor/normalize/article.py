"""The normalized report that the story, watchlist and storage stages work on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from monitor.normalize.dates import find_dateline, latest_mentioned
from monitor.normalize.language import detect_language
from monitor.normalize.text import (
    body_after_title,
    clean_text,
    first_title_line,
    fragment_text,
    html_title,
    html_to_text,
)
from monitor.normalize.urls import canonical_url
from monitor.parse.entry import Entry
from monitor.textfold import fold

# A source clock a little ahead is common; a date further ahead is a broken feed.
_FUTURE_TOLERANCE = timedelta(hours=1)
_UNTITLED_CHARS = 80


@dataclass(slots=True)
class Article:
    """A report ready for story detection.

    ``published_kind``: ``source`` (the feed or dump said so), ``dateline`` (found in the text),
    ``estimated`` (a lower bound: the latest date the text mentions), ``unknown``.
    """

    external_id: str | None
    url: str | None
    canonical_url: str | None
    title: str
    text: str
    language: str | None
    outlet: str | None
    published: datetime | None
    published_kind: str
    content_hash: str

    @property
    def published_estimated(self) -> bool:
        return self.published_kind in ("estimated", "unknown")

    @property
    def full_text(self) -> str:
        return f"{self.title}\n\n{self.text}"


def content_hash(title: str, text: str) -> str:
    """Identity of a report with no id and no URL: its folded title and text."""
    folded = " ".join(fold(f"{title}\n{text}").split())
    return hashlib.sha256(folded.encode()).hexdigest()


def _publication(entry: Entry, body: str, tz: tzinfo, now: datetime) -> tuple[datetime | None, str]:
    if entry.published is not None and entry.published <= now + _FUTURE_TOLERANCE:
        return entry.published, "source"
    dateline = find_dateline(body, tz)
    if dateline is not None and dateline <= now + _FUTURE_TOLERANCE:
        return dateline, "dateline"
    lower_bound = latest_mentioned(body, tz, not_after=now)
    if lower_bound is not None:
        return lower_bound, "estimated"
    return None, "unknown"


def normalize(entry: Entry, tz: tzinfo = UTC, now: datetime | None = None) -> Article:
    """Clean text, title, language, canonical URL, publication time, content identity.

    A source date in the future is not trusted: the text's dateline, or an estimate, is used.
    """
    now = now or datetime.now(UTC)
    if entry.content_type == "page":
        text = html_to_text(entry.content, entry.url) if entry.content.strip() else ""
        title = entry.title or html_title(entry.content)
    elif entry.content_type == "html":
        text = fragment_text(entry.content)
        title = entry.title
    else:
        text = clean_text(entry.content)
        title = entry.title
    title = " ".join(clean_text(title or "").split())
    if not title:
        title = first_title_line(text) or " ".join(text.split())[:_UNTITLED_CHARS] or "(untitled)"
        text = body_after_title(text, title)
    published, kind = _publication(entry, text, tz, now)
    language = detect_language(f"{title}\n{text}", hint=entry.language)
    return Article(
        external_id=entry.external_id,
        url=entry.url,
        canonical_url=canonical_url(entry.url),
        title=title,
        text=text,
        language=language,
        outlet=entry.outlet,
        published=published,
        published_kind=kind,
        content_hash=content_hash(title, text),
    )


def normalize_each(entries: list[Entry], tz: tzinfo, now: datetime) -> list[Article | str]:
    """``normalize`` over a feed's entries in one call (it may cross to another process);
    an entry that fails gives its error message instead: one bad entry must not stop the
    feed."""
    results: list[Article | str] = []
    for entry in entries:
        try:
            results.append(normalize(entry, tz, now))
        except Exception as exc:
            results.append(f"entry {entry.external_id or entry.url}: {exc}")
    return results
