"""Read a backfill corpus: folders, files and dumps → batches of entries, one batch a source.

File types are told apart by content, with the extension only as a hint: a ``.json`` may be
a JSON Feed, a JSON array of items or JSON lines; an ``.xml`` that holds HTML is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.normalize.dates import parse_date
from monitor.parse.entry import Entry, ParseError
from monitor.parse.feed import Feed, is_json_feed, parse_feed, parse_json_feed

DOCUMENT_SUFFIXES = {".txt", ".text", ".html", ".htm"}
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
# A corpus file larger than this is refused rather than read into memory whole.
MAX_FILE_BYTES = 256 * 1024 * 1024


@dataclass(slots=True)
class Batch:
    """Entries from one source, or the reason the source could not be read."""

    key: str  # stable across working directories: a resolved file:// URI or a URL
    kind: str  # file or feed
    name: str
    url: str | None
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def _sniff(data: bytes) -> str:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"{", b"[")):
        return "json"
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    if head.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "xml"
    return "text"


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")


def json_item(raw: Any) -> Entry:
    """One JSONL/array item: id, url, title, text, published, language, source."""
    if not isinstance(raw, dict):
        raise ParseError("an item must be a JSON object")
    if not any(raw.get(k) for k in ("url", "title", "text")):
        raise ParseError("an item needs at least one of url, title, text")
    return Entry(
        external_id=str(raw["id"]) if raw.get("id") not in (None, "") else None,
        url=raw.get("url") or None,
        title=raw.get("title") or None,
        content=str(raw.get("text") or ""),
        content_type="text",
        published=parse_date(raw.get("published")),
        language=raw.get("language") or None,
        outlet=raw.get("source") or None,
    )


def parse_json_document(data: bytes, base_url: str | None = None) -> Feed:
    """A JSON Feed, a JSON array of items, or JSON lines."""
    text = _decode(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if is_json_feed(document):
        assert isinstance(document, dict)
        return parse_json_feed(document, base_url)
    if isinstance(document, list):
        return Feed(title=None, entries=[json_item(raw) for raw in document])
    if isinstance(document, dict):
        if not any(k in document for k in ("url", "title", "text")):
            raise ParseError("JSON that is neither a JSON Feed, an item list nor JSON lines")
        return Feed(title=None, entries=[json_item(document)])
    entries, skipped = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(json_item(json.loads(line)))
        except (json.JSONDecodeError, ParseError) as exc:
            skipped.append(f"line {number}: {exc}")
    if not entries:
        raise ParseError(f"no readable JSON item ({skipped[0] if skipped else 'empty file'})")
    return Feed(title=None, entries=entries, skipped=skipped)


def parse_any_feed(
    data: bytes, base_url: str | None = None, headers: dict[str, str] | None = None
) -> Feed:
    """RSS, Atom, RDF or JSON Feed, told apart by content."""
    kind = _sniff(data)
    if kind == "json":
        return parse_json_document(data, base_url)
    if kind == "html":
        raise ParseError("an HTML page, not a feed")
    return parse_feed(data, base_url, headers)


def _document_entry(path: Path, root: Path, data: bytes) -> Entry:
    kind = _sniff(data)
    is_html = path.suffix.lower() in (".html", ".htm") or kind == "html"
    return Entry(
        external_id=path.relative_to(root).as_posix() if path != root else path.name,
        url=None,
        title=None,
        content=_decode(data),
        content_type="page" if is_html else "text",
    )


def _file_batch(path: Path) -> Batch:
    uri = path.resolve().as_uri()
    batch = Batch(key=uri, kind="feed", name=path.name, url=None)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ParseError(f"larger than {MAX_FILE_BYTES // 2**20} MiB")
        feed = parse_any_feed(path.read_bytes())
    except (OSError, ParseError) as exc:
        batch.error = str(exc)
        return batch
    batch.name = feed.title or path.name
    batch.entries = feed.entries
    batch.warnings = ([feed.warning] if feed.warning else []) + feed.skipped
    return batch


def read_path(path: Path) -> Iterator[Batch]:
    """Batches for a file or a folder (recursive). Loose documents of a folder form one source."""
    root = path.resolve()
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    documents = Batch(key=root.as_uri(), kind="file", name=root.name, url=None)
    for file in files:
        suffix = file.suffix.lower()
        if suffix in FEED_SUFFIXES or suffix in JSON_SUFFIXES:
            yield _file_batch(file)
        elif suffix in DOCUMENT_SUFFIXES:
            try:
                documents.entries.append(_document_entry(file, root, file.read_bytes()))
            except OSError as exc:
                documents.warnings.append(f"{file}: {exc}")
        else:
            yield Batch(
                key=file.as_uri(),
                kind="file",
                name=file.name,
                url=None,
                error="not a corpus file (.txt, .html, .xml, .rss, .atom, .json, .jsonl)",
            )
    if documents.entries or documents.warnings:
        yield documents
