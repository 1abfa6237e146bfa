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

from sqlmodel import Session, SQLModel, col, select

from monitor.store.models import AnchorStat
from monitor.store.upsert import dialect_insert
from monitor.textfold import anchor_key, tokens

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
    words = tokens(lead(title, text, ANCHOR_CHARS))
    # "Magnitude" in a headline or at a sentence start is no name if the text also has it
    # in lower case.
    lower = {t.surface for t in words if t.surface[0].islower()}
    found: set[str] = set()
    for token in words:
        word = token.surface
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
    """Anchors of ``a`` and ``b`` that meet: equal, or a name and its inflected longer form."""
    exact = a & b
    found = set(exact)
    for x in a - exact:
        if len(x) < _MIN_PREFIX + 2 or not x.startswith("n:"):
            continue
        for y in b - exact:
            short, long = (x, y) if len(x) <= len(y) else (y, x)
            if (
                len(short) >= _MIN_PREFIX + 2
                and y.startswith("n:")
                and long.startswith(short)
                and len(long) - len(short) <= _MAX_EXTRA
            ):
                found.add(short)
    return found


class DocumentFrequency:
    """How many reports carry each anchor: stored in ``anchorstat``, cached in memory.

    Several workers update the same counts; a worker's cache may lag theirs a little, which
    only nudges weights.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self.docs = 0

    def count(self, session: Session, found: set[str]) -> None:
        """Add one report's anchors to the counts (in the caller's transaction)."""
        keys = sorted(found | {_DOCS_KEY})
        self.load(session, keys)
        _increment(session, keys)
        for key in keys:
            self._counts[key] += 1
        self.docs = self._counts[_DOCS_KEY]

    def load(self, session: Session, keys: Iterable[str]) -> None:
        """Fetch the counts the cache lacks."""
        if len(self._counts) > _CACHE_LIMIT:
            self._counts.clear()
        missing = sorted({k for k in keys if k not in self._counts})
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            rows = dict(
                session.exec(
                    select(AnchorStat.anchor, AnchorStat.docs).where(
                        col(AnchorStat.anchor).in_(chunk)
                    )
                ).all()
            )
            for key in chunk:
                self._counts[key] = rows.get(key, 0)
        self.docs = self._counts.get(_DOCS_KEY, self.docs)

    def frequency(self, anchor: str) -> int:
        return self._counts.get(anchor, 0)

    def idf(self, anchor: str) -> float:
        return math.log((self.docs + PRIOR_DOCS + 1) / (self._counts.get(anchor, 0) + 1))

    def mass(self, found: Iterable[str]) -> float:
        return sum(self.idf(a) for a in found)


def anchor_similarity(
    a: frozenset[str], b: frozenset[str], df: DocumentFrequency, mass_a: float, mass_b: float
) -> float:
    """IDF mass of the shared anchors over the geometric mean of both masses, 0..1."""
    if mass_a <= 0 or mass_b <= 0:
        return 0.0
    return min(1.0, df.mass(shared(a, b)) / math.sqrt(mass_a * mass_b))


def _increment(session: Session, keys: list[str]) -> None:
    rows = [{"anchor": k, "docs": 1} for k in keys]
    statement = dialect_insert(session)(SQLModel.metadata.tables["anchorstat"])
    statement = statement.on_conflict_do_update(
        index_elements=["anchor"], set_={"docs": col(AnchorStat.docs) + 1}
    )
    session.connection().execute(statement, rows)
