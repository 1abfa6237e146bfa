"""Language-independent anchors of a report, and how much two reports share them.

Anchors are the capitalised words (every word in scripts without case, like Arabic) and the
numbers of the headline and lead, folded to one Latin key by ``monitor.textfold.anchor_key``:
"Mekhtiyev’in" (Turkish) and "Мехтиев" (Russian) both give ``n:mehtiv``. They let reports in
different languages find each other through an inverted index, and they decide what the
embedding cannot: two earthquakes on one day share the topic but not the place names.

Anchors are weighted by rarity (IDF over the document frequencies kept in ``anchorstat``), so
"Monday" or "2020" count little and "Mekhtiyev" a lot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col

from monitor.store.models import AnchorStat
from monitor.store.upsert import dialect_insert, dialect_of
from monitor.textfold import anchor_key, words

# The headline and lead name the event; later paragraphs drift into background.
ANCHOR_CHARS = 1000
MIN_KEY_CHARS = 3
# Two keys meet by prefix when the shorter has this many letters and the longer adds at most
# _MAX_EXTRA: Assange/Assanges, Fenerbahce/Fenerbahceli.
_MIN_PREFIX = 4
_MAX_EXTRA = 3
# Until this many documents are seen, every anchor counts as fairly rare.
PRIOR_DOCS = 20
_DOCS_KEY = ""  # the anchorstat row that counts documents
_CACHE_LIMIT = 200_000
_NON_DIGIT = re.compile(r"\D")
# Capitalised but no name: days and months say when, which the date ranges already weigh.
_CALENDAR = frozenset(
    anchor_key(w)
    for w in """
    monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december
    montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz juni juli
    oktober dezember lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars
    avril juin juillet août septembre octobre novembre décembre lunes martes miércoles jueves
    viernes sábado domingo enero febrero marzo abril mayo junio julio agosto septiembre
    octubre noviembre diciembre pazartesi salı çarşamba perşembe cuma cumartesi pazar ocak
    şubat nisan mayıs haziran temmuz ağustos eylül ekim kasım aralık poniedziałek wtorek
    środa czwartek piątek sobota niedziela styczeń luty marzec kwiecień maj czerwiec lipiec
    sierpień wrzesień październik listopad grudzień
    """.split()
)


def lead(title: str, text: str, chars: int) -> str:
    """Title and the first ``chars`` of the body (without the title when the body repeats it)."""
    body = text[len(title) :].lstrip() if title and text.startswith(title) else text
    return f"{title}\n{body[:chars]}".strip()


def _is_name(word: str) -> bool:
    first = word[0]
    return first.isupper() or (first.isalpha() and first.upper() == first.lower())


def anchors(title: str, text: str) -> set[str]:
    """Names (``n:``) and numbers of two or more digits (``d:``) in the headline and lead."""
    written = words(lead(title, text, ANCHOR_CHARS))
    # "Magnitude" in a headline or at a sentence start is no name if the text also has it
    # in lower case.
    lower = {word for word in written if word[0].islower()}
    found: set[str] = set()
    for word in written:
        if word[0].isdigit():
            digits = _NON_DIGIT.sub("", word)
            if len(digits) >= 2:
                found.add(f"d:{digits}")
        elif len(word) >= MIN_KEY_CHARS and _is_name(word) and word.lower() not in lower:
            # (scripts without case, like Arabic, have no lower-case forms to rule words out)
            key = anchor_key(word)
            if len(key) >= MIN_KEY_CHARS and not key.isdigit() and key not in _CALENDAR:
                found.add(f"n:{key}")
    return found


def name_anchors(found: Iterable[str]) -> set[str]:
    return {a for a in found if a.startswith("n:")}


def shared(a: frozenset[str], b: frozenset[str]) -> set[str]:
    """Anchors of ``a`` and ``b`` that meet: equal, or a name and its inflected longer form
    (then the shorter one counts)."""
    exact = a & b
    found = set(exact)
    for mine, theirs in ((a, b), (b, a)):
        for anchor in mine - exact:
            for prefix in _shorter_forms(anchor):
                if prefix in theirs and prefix not in exact:
                    found.add(prefix)
    return found


@lru_cache(maxsize=65536)
def _shorter_forms(anchor: str) -> tuple[str, ...]:
    """The name anchors ``anchor`` extends by one to _MAX_EXTRA letters: set lookups instead
    of comparing every anchor of one report with every anchor of the other."""
    if not anchor.startswith("n:"):
        return ()
    shortest = max(_MIN_PREFIX + 2, len(anchor) - _MAX_EXTRA)
    return tuple(anchor[:n] for n in range(shortest, len(anchor)))


class DocumentFrequency:
    """How many reports carry each anchor: stored in ``anchorstat``, cached in memory.

    Several workers update the same counts; a worker's cache may lag theirs a little, which
    only nudges weights.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self.docs = 0
        # A report's decision weighs the same anchors, anchor sets and pairs of sets (a
        # story's wire copies name the same) many times over; the weights change only when
        # counts do.
        self._idf: dict[str, float] = {}
        self._mass: dict[frozenset[str], float] = {}
        self._similarity: dict[tuple[frozenset[str], frozenset[str]], float] = {}

    def count(self, session: Session, found: frozenset[str]) -> None:
        """Add one report's anchors to the counts (in the caller's transaction)."""
        keys = sorted(found | {_DOCS_KEY})
        self.load(session, keys)
        _increment(session, keys)
        for key in keys:
            self._counts[key] += 1
        self.docs = self._counts[_DOCS_KEY]
        self._forget_weights()

    def load(self, session: Session, keys: Iterable[str]) -> None:
        """Fetch the counts the cache lacks."""
        if len(self._counts) > _CACHE_LIMIT:
            self._counts.clear()
        missing = sorted({k for k in keys if k not in self._counts})
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            found = session.connection().execute(_COUNTS, {"anchors": chunk})
            rows: dict[str, int] = {anchor: docs for anchor, docs in found}
            for key in chunk:
                self._counts[key] = rows.get(key, 0)
        self.docs = self._counts.get(_DOCS_KEY, self.docs)
        if missing:
            self._forget_weights()

    def _forget_weights(self) -> None:
        self._idf.clear()
        self._mass.clear()
        self._similarity.clear()

    def frequency(self, anchor: str) -> int:
        return self._counts.get(anchor, 0)

    def idf(self, anchor: str) -> float:
        value = self._idf.get(anchor)
        if value is None:
            count = self._counts.get(anchor, 0)
            value = self._idf[anchor] = math.log((self.docs + PRIOR_DOCS + 1) / (count + 1))
        return value

    def mass(self, found: frozenset[str]) -> float:
        value = self._mass.get(found)
        if value is None:
            value = self._mass[found] = sum(self.idf(a) for a in found)
        return value

    def similarity(self, a: frozenset[str], b: frozenset[str]) -> float:
        """IDF mass of the shared anchors over the geometric mean of both masses, 0..1."""
        value = self._similarity.get((a, b))
        if value is None:
            mass_a, mass_b = self.mass(a), self.mass(b)
            value = 0.0
            if mass_a > 0 and mass_b > 0:
                value = min(
                    1.0, sum(self.idf(x) for x in shared(a, b)) / math.sqrt(mass_a * mass_b)
                )
            self._similarity[(a, b)] = value
        return value


_COUNTS = sa_select(col(AnchorStat.anchor), col(AnchorStat.docs)).where(
    col(AnchorStat.anchor).in_(bindparam("anchors", expanding=True))
)


def _increment(session: Session, keys: list[str]) -> None:
    rows = [{"anchor": k, "docs": 1} for k in keys]
    session.connection().execute(_increment_statement(dialect_of(session)), rows)


@cache
def _increment_statement(dialect: str) -> Any:
    statement = dialect_insert(dialect)(SQLModel.metadata.tables["anchorstat"])
    return statement.on_conflict_do_update(
        index_elements=["anchor"], set_={"docs": col(AnchorStat.docs) + 1}
    )
