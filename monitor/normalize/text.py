"""Article text without site boilerplate, and a title when the source gave none."""

from __future__ import annotations

import html
import re

import trafilatura
from lxml import html as lxml_html
from lxml.etree import ParserError

# Lines that sites append to every article: sharing widgets, legal links, credits.
_BOILERPLATE_LINE = re.compile(
    r"^(?:pdf|share|print|tweet|email|facebook|telegram|whatsapp|copy link|\W)+$"
    r"|terms of use|privacy policy|all rights reserved|editor in chief|cookie|subscribe to"
    r"|^©|^copyright\b",
    re.IGNORECASE,
)
_BLOCKS = (
    "p div br li dd dt h1 h2 h3 h4 h5 h6 blockquote pre tr table ul ol dl figure figcaption "
    "section article header footer aside hr"
).split()
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# A title is a line of several words; "NewsPolitics" above a headline is a breadcrumb.
_MIN_TITLE_WORDS = 3
_MAX_TITLE_CHARS = 300


def html_to_text(markup: str, url: str | None = None) -> str:
    """Main text of an HTML page; falls back to all its text when trafilatura finds none."""
    extracted = trafilatura.extract(
        markup, url=url, include_comments=False, include_tables=False, favor_recall=True
    )
    if extracted and extracted.strip():
        return clean_text(extracted)
    try:
        root = lxml_html.fromstring(markup)
    except (ParserError, ValueError):
        return clean_text(html.unescape(re.sub(r"<[^>]+>", " ", markup)))
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    return clean_text(root.text_content())


def fragment_text(markup: str) -> str:
    """Text of an HTML fragment that is the article itself (a feed entry's content).

    There is no page chrome to strip, so no trafilatura: it cost 4–8 ms a fragment, about as
    much as the rest of the pipeline, and gave up on short ones. Block elements become
    paragraph breaks.
    """
    if not markup.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (ParserError, ValueError):
        return clean_text(html.unescape(re.sub(r"<[^>]+>", " ", markup)))
    for bad in list(root.iter("script", "style", "noscript")):
        bad.drop_tree()
    for element in root.iter():  # source line breaks are spaces in HTML (except in <pre>)
        if element.tag != "pre" and element.text:
            element.text = _SPACES.sub(" ", element.text)
        if element.tail:
            element.tail = _SPACES.sub(" ", element.tail)
    for element in root.iter(*_BLOCKS):
        element.tail = ("\n" if element.tag == "br" else "\n\n") + (element.tail or "")
    return clean_text(root.text_content())


def html_title(markup: str) -> str | None:
    metadata = trafilatura.extract_metadata(markup)
    return metadata.title if metadata and metadata.title else None


def clean_text(text: str) -> str:
    """Paragraphs, no repeated paragraph (photo captions twice), no trailing site footer."""
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\xa0", " ")):
        block = "\n".join(line.strip() for line in block.strip().splitlines())
        if block and block not in paragraphs:
            paragraphs.append(block)
    while paragraphs and all(
        _BOILERPLATE_LINE.search(line) for line in paragraphs[-1].splitlines()
    ):
        paragraphs.pop()
    return "\n\n".join(paragraphs)


def first_title_line(text: str) -> str | None:
    """The first meaningful line of plain text, or None."""
    for line in text.splitlines():
        line = line.strip()
        if len(line.split()) >= _MIN_TITLE_WORDS and len(line) <= _MAX_TITLE_CHARS:
            return line
    return None


def body_after_title(text: str, title: str) -> str:
    """Plain text without the headline line(s) that precede the body."""
    position = text.find(title)
    return text[position + len(title) :].strip() if position >= 0 else text
