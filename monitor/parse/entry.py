"""The plain record that leaves the parse stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(slots=True)
class Entry:
    """One report as its source gave it, before normalization.

    ``content`` is as ``content_type`` says: plain text, an HTML fragment that is the article
    (a feed entry's content), or a whole HTML page whose article is still to be found.
    ``published`` is timezone-aware or None when the source gave no usable date
    (normalization may find a dateline).
    """

    external_id: str | None
    url: str | None
    title: str | None
    content: str
    content_type: Literal["text", "html", "page"]
    published: datetime | None = None
    language: str | None = None
    outlet: str | None = None


class ParseError(Exception):
    """Input that cannot be read as what it claims to be; the message says why."""
