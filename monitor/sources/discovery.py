"""Links in HTML pages: a site's announced feeds, and the article links of a `page` source."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import lxml.html

FEED_TYPES = {
    "application/rss+xml": 0,
    "application/atom+xml": 1,
    "application/feed+json": 2,
    "application/json": 3,
    "application/rdf+xml": 4,
}


def _document(html: bytes | str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None


def feed_links(html: bytes | str, base_url: str) -> list[str]:
    """Feeds a page announces with ``<link rel="alternate" type="…">``, RSS first."""
    document = _document(html)
    if document is None:
        return []
    found: list[tuple[int, int, str]] = []
    for number, link in enumerate(document.iter("link")):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            found.append((FEED_TYPES[kind], number, urljoin(base_url, href)))
    return list(dict.fromkeys(url for _, _, url in sorted(found)))


def article_links(html: bytes | str, base_url: str, limit: int = 50) -> list[str]:
    """Links on a listing page that look like articles: same site, a path with depth or a slug.

    Navigation (the home page, anchors, one-word sections) is left out.
    """
    document = _document(html)
    if document is None:
        return []
    site = urlsplit(base_url).netloc
    links: list[str] = []
    for anchor in document.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        url = urljoin(base_url, href).split("#", 1)[0]
        parts = urlsplit(url)
        path = parts.path.strip("/")
        if parts.scheme not in ("http", "https") or parts.netloc != site or not path:
            continue
        if "/" not in path and "-" not in path and not any(c.isdigit() for c in path):
            continue
        links.append(url)
    return list(dict.fromkeys(links))[:limit]
