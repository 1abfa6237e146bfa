"""Publication times as ranges: an estimated date is a lower bound, an unknown one no bound."""

from __future__ import annotations

from datetime import datetime


def time_range(
    published: datetime | None, kind: str, first_seen: datetime
) -> tuple[datetime | None, datetime]:
    """When a report may have been published, as [earliest, latest]; earliest None: unknown."""
    if published is None:
        return None, first_seen
    if kind == "estimated":
        return published, max(published, first_seen)
    return published, published
