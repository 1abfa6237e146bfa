"""Publication times: parse what sources give, find datelines, estimate a lower bound.

Everything returned is timezone-aware UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

_MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    # tr
    "ocak": 1, "şubat": 2, "mart": 3, "nisan": 4, "mayıs": 5, "haziran": 6, "temmuz": 7,
    "ağustos": 8, "eylül": 9, "ekim": 10, "kasım": 11, "aralık": 12,
    # de
    "januar": 1, "februar": 2, "märz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
    # ru (genitive, as in dates)
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
    "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
}  # fmt: skip
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))

# "18.10.2025 - 21:23", "21.02.2025", "2025-10-18T21:23"
_NUMERIC_DATE = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>(?:19|20)\d\d)"
    r"(?:\s*[-–,]?\s*(?P<H>\d{1,2}):(?P<M>\d{2}))?(?!\d)"
)
_ISO_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)-(?P<m>\d{2})-(?P<d>\d{2})(?:[T ](?P<H>\d{2}):(?P<M>\d{2}))?"
)
# "9 October 2025", "October 9, 2025", "9 Ekim 2025"; a year is required to be a date at all
_WORD_DATE = re.compile(
    rf"(?:(?P<d1>\d{{1,2}})\s+(?P<mon1>{_MONTH_ALT})\s+(?P<y1>(?:19|20)\d\d)"
    rf"|(?P<mon2>{_MONTH_ALT})\s+(?P<d2>\d{{1,2}}),?\s+(?P<y2>(?:19|20)\d\d))",
    re.IGNORECASE,
)
# A dateline is a short line among the first lines of the body; a date inside a long
# sentence or photo caption ("…in Dushanbe, 9 October 2025") is a mention, not a dateline.
_DATELINE_LINES = 5
_DATELINE_MAX_CHARS = 80


def parse_date(value: Any, default_tz: tzinfo = UTC) -> datetime | None:
    """A date string or datetime from a source → aware UTC, or None if unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = dateutil_parser.parse(str(value))
        except (ValueError, OverflowError, TypeError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.astimezone(UTC)


def _build(
    y: str, m: str | int, d: str, hh: str | None, mm: str | None, tz: tzinfo
) -> datetime | None:
    try:
        local = datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), tzinfo=tz)
    except ValueError:
        return None
    return local.astimezone(UTC)


def _word_dates(text: str, tz: tzinfo) -> list[datetime]:
    found = []
    for match in _WORD_DATE.finditer(text):
        day = match["d1"] or match["d2"]
        month = _MONTHS[(match["mon1"] or match["mon2"]).lower()]
        year = match["y1"] or match["y2"]
        built = _build(year, month, day, None, None, tz)
        if built:
            found.append(built)
    return found


def _numeric_dates(text: str, tz: tzinfo) -> list[datetime]:
    found = []
    for pattern in (_NUMERIC_DATE, _ISO_DATE):
        for match in pattern.finditer(text):
            built = _build(match["y"], match["m"], match["d"], match["H"], match["M"], tz)
            if built:
                found.append(built)
    return found


def find_dateline(text: str, tz: tzinfo = UTC) -> datetime | None:
    """A publication date on its own short line near the top: "18.10.2025 - 21:23",
    "ARVAK Center comment, 21.02.2025"."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:_DATELINE_LINES]
    for line in lines:
        if len(line) <= _DATELINE_MAX_CHARS:
            dates = _numeric_dates(line, tz) or _word_dates(line, tz)
            if dates:
                return dates[0]
    return None


def latest_mentioned(
    text: str, tz: tzinfo = UTC, not_after: datetime | None = None
) -> datetime | None:
    """The latest date the text mentions: a lower bound for when it was published."""
    dates = _word_dates(text, tz) + _numeric_dates(text, tz)
    if not_after is not None:
        dates = [d for d in dates if d <= not_after]
    return max(dates, default=None)


def zone(name: str) -> tzinfo:
    return UTC if name.upper() == "UTC" else ZoneInfo(name)
