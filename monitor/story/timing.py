"""Publication times as ranges, and the smallest gap two ranges allow.

A date is never a point: a source or dateline date is good to a day (time zones, late
updates), a date in the URL likewise, a month in the URL to half a month; an estimated date is
a lower bound up to first sight; an unknown date is compatible with anything. Two reports can
share a story only if their ranges come within the story window of each other.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DAY = timedelta(days=1)
_HALF_MONTH = timedelta(days=16)
# An archive's capture time is not the publication time.
_ARCHIVE_PREFIX = re.compile(r"^https?://web\.archive\.org/web/\d+[a-z_]*/")
_URL_DAY = re.compile(r"(?<!\d)(20[0-3]\d)[/_-]([01]\d)[/_-]([0-3]\d)(?!\d)")
_URL_COMPACT_DAY = re.compile(r"(?<!\d)(20[0-3]\d)([01]\d)([0-3]\d)")
_URL_MONTH = re.compile(r"/(20[0-3]\d)/([01]\d)/")


def url_date(url: str | None) -> tuple[datetime, timedelta] | None:
    """A publication date written in the URL, with how far it may be off."""
    if not url:
        return None
    url = _ARCHIVE_PREFIX.sub("", url)
    for pattern in (_URL_DAY, _URL_COMPACT_DAY):
        match = pattern.search(url)
        if match:
            try:
                day = datetime(int(match[1]), int(match[2]), int(match[3]), 12, tzinfo=UTC)
                return day, _DAY
            except ValueError:
                continue
    match = _URL_MONTH.search(url)
    if match and 1 <= int(match[2]) <= 12:
        return datetime(int(match[1]), int(match[2]), 15, tzinfo=UTC), _HALF_MONTH
    return None


def time_range(
    published: datetime | None, kind: str, first_seen: datetime, url: str | None = None
) -> tuple[datetime | None, datetime]:
    """When a report may have been published, as [earliest, latest]; earliest None: unknown."""
    if published is None:
        from_url = url_date(url)
        if from_url is None or from_url[0] > first_seen + _DAY:
            return None, first_seen
        day, slack = from_url
        return day - slack, day + slack
    if kind == "estimated":
        return published - _DAY, max(published + _DAY, first_seen)
    return published - _DAY, published + _DAY


def gap(a: tuple[datetime | None, datetime], b: tuple[datetime | None, datetime]) -> timedelta:
    """The smallest time between two ranges; zero when they overlap or one is unknown."""
    if a[0] is None or b[0] is None:
        return timedelta(0)
    return max(timedelta(0), a[0] - b[1], b[0] - a[1])
