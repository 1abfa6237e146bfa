"""Find watchlist actors and keywords in a report, and say how each was found.

Every name and term is compiled into hash indexes keyed by folded and phonetic forms, so a
report costs a few look-ups per word, however many names are watched. The fuzzy layer is
blocked the same way: each watched key is indexed under its one-letter deletions, so a word
meets only the keys one edit away from it, never the whole list.

Methods: ``alias`` (written as listed), ``folded`` (the same after script, diacritic and
transliteration folding, inflection suffixes cut), ``fuzzy`` (a close spelling, with score),
``keyword`` (a keyword term).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz.distance import Levenshtein

from monitor.textfold import Token, fold, fold_word, phonetic, suffix_stems, tokens, words
from monitor.watchlist.rules import ReportFacts, RuleMatch, evaluate
from monitor.watchlist.schema import Actor, Keyword, Watchlist

__all__ = ["FUZZY_MIN_SCORE", "Hit", "Matcher", "ReportFacts", "RuleMatch", "evaluate"]

# One edit in eight letters or more (Levenshtein.normalized_similarity); with one-deletion
# blocking this finds every watched key that close, for keys up to 16 letters.
FUZZY_MIN_SCORE = 0.88
_FUZZY_MIN_CHARS = 6
_SNIPPET_CHARS = 70
_MEMO_WORDS = 200_000
# Keywords are common words: cut endings down to three letters (дом / дома), names to four.
_KEYWORD_MIN_STEM = 3
# What may stand between the words of a phrase: spaces, hyphens, quotes; no full stop.
_PHRASE_GAP = re.compile(r"[\s\-–—'\"’‘“”«»„]*")
_APOSTROPHE = re.compile(r"['’‘`ʼ´]")
_SENTENCE_END = re.compile(r"([.!?…])[\"'”’»)]*\s+[\"'“‘«(]*(\w)|\n\s*\n")
_NOT_SENTENCE_END = frozenset(
    "mr mrs ms dr prof gen col lt sgt st jr sr no vs etc inc ltd co corp dept gov rep sen".split()
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One actor or keyword found in a text, with its span and how it was found."""

    watchlist: str
    kind: str  # actor or keyword
    name: str
    term: str  # the text as found
    method: str
    score: float
    start: int
    end: int
    snippet: str
    listed: str = ""  # the spelling or term in the watchlist it was found through
    word: int = 0  # index of its first word in the report, for proximity
    sentence: int = 0

    def explain(self) -> str:
        """One line for people: what was found, where from, and how."""
        how = f"fuzzy {self.score:.2f}" if self.method == "fuzzy" else self.method
        via = f" ~ {self.listed!r}" if self.listed and self.listed != self.term else ""
        return f"{self.name} ← {self.term!r} ({how}{via})"


@dataclass(frozen=True, slots=True)
class _NameForm:
    """One listed spelling of an actor: surname key plus the given names before it."""

    watchlist: str
    actor: Actor
    listed: str
    surname: str  # as listed, case folded, to tell "alias" from "folded"
    given: str  # the first name as listed, case folded; "" for none
    given_keys: frozenset[str]  # phonetic keys of the first name and its stems


@dataclass(frozen=True, slots=True)
class _Phrase:
    watchlist: str
    kind: str
    name: str
    listed: str
    words: tuple[frozenset[str], ...]  # accepted folded forms of each word
    surfaces: tuple[str, ...]
    case_sensitive: bool
    inflect: bool


class _Found(NamedTuple):
    """A hit before its snippet and place in the report are worked out."""

    watchlist: str
    kind: str
    name: str
    listed: str
    start: int
    end: int
    method: str = "keyword"
    score: float = 1.0


@dataclass(slots=True)
class _Candidate:
    form: _NameForm
    score: float
    given: bool


def snippet(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - _SNIPPET_CHARS), min(len(text), end + _SNIPPET_CHARS)
    body = " ".join(text[lo:hi].split())
    return f"{'…' if lo else ''}{body}{'…' if hi < len(text) else ''}"


def _same(written: str, listed: str) -> bool:
    """Written exactly as listed, but for case and an apostrophe suffix."""
    bare = _APOSTROPHE.split(unicodedata.normalize("NFC", written), maxsplit=1)[0]
    return bare.casefold() == listed


@lru_cache(maxsize=65536)
def _keys(word: str) -> frozenset[str]:
    """Phonetic keys of a written word and of its stems: Ильхама meets Ilham."""
    return frozenset(phonetic(s) for s in suffix_stems(fold_word(word)))


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))} | {key}


# A word that starts no phrase and may be no actor: one shared value, checked by identity.
_NOTHING: tuple[list[_Phrase], list[tuple[_NameForm, float]]] = ([], [])


@dataclass
class Matcher:
    """Compiled watchlists; build once per watchlist version, use for every report."""

    watchlists: list[Watchlist]
    _names: dict[str, list[_NameForm]] = field(default_factory=lambda: defaultdict(list))
    _fuzzy_index: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _phrases: dict[str, list[_Phrase]] = field(default_factory=lambda: defaultdict(list))
    _regexes: list[tuple[str, Keyword, str, re.Pattern[str]]] = field(default_factory=list)
    _memo: dict[str, tuple[list[_Phrase], list[tuple[_NameForm, float]]]] = field(
        default_factory=dict
    )
    _nothing: set[str] = field(default_factory=set)  # remembered words that start nothing

    def __post_init__(self) -> None:
        for watchlist in self.watchlists:
            assert watchlist.name is not None
            for actor in watchlist.actors:
                self._add_actor(watchlist.name, actor)
            for keyword in watchlist.keywords:
                self._add_keyword(watchlist.name, keyword)

    def _add_actor(self, watchlist: str, actor: Actor) -> None:
        for spelling in (actor.name, *actor.aliases):
            words = tokens(spelling)
            if not words:
                continue
            if actor.type != "person" and len(words) > 1:  # "Russian House": a phrase
                self._add_phrase(watchlist, "actor", actor.name, spelling, False, True)
                continue
            given = words[-2].surface if len(words) > 1 else ""
            key = phonetic(words[-1].folded)
            self._names[key].append(
                _NameForm(
                    watchlist,
                    actor,
                    spelling,
                    words[-1].surface.casefold(),
                    unicodedata.normalize("NFC", given).casefold(),
                    _keys(given) if given else frozenset(),
                )
            )
            if actor.fuzzy and len(key) >= _FUZZY_MIN_CHARS:
                for variant in _deletions(key):
                    self._fuzzy_index[variant].add(key)

    def _add_keyword(self, watchlist: str, keyword: Keyword) -> None:
        for term in keyword.terms:
            if keyword.regex:
                flags = 0 if keyword.case_sensitive else re.IGNORECASE
                self._regexes.append((watchlist, keyword, term, re.compile(term, flags)))
            else:
                self._add_phrase(
                    watchlist,
                    "keyword",
                    keyword.name,
                    term,
                    keyword.case_sensitive,
                    keyword.inflect,
                )

    def _add_phrase(
        self, watchlist: str, kind: str, name: str, term: str, case_sensitive: bool, inflect: bool
    ) -> None:
        words = tokens(term)
        if not words:
            return
        forms = tuple(_word_forms(w.surface, inflect) for w in words)
        phrase = _Phrase(
            watchlist,
            kind,
            name,
            term,
            forms,
            tuple(unicodedata.normalize("NFC", w.surface) for w in words),
            case_sensitive,
            inflect,
        )
        for form in forms[0]:
            self._phrases[form].append(phrase)

    # -- matching -------------------------------------------------------------------------

    def find(self, text: str) -> list[Hit]:
        """Every actor and keyword occurrence in ``text``, each with how it was found."""
        found: list[_Found] = []
        spans: list[Token] | None = None
        # Most reports name nothing watched: a look at their words as written (remembered
        # look-ups, no spans, no folding; words known to start nothing set aside in one set
        # difference) settles that for much less than the full pass.
        unknown = set(words(text)).difference(self._nothing)
        if any(self._lookup(word) is not _NOTHING for word in unknown):
            spans = tokens(text)
            found = self._word_hits(text, spans)
        for watchlist, keyword, term, pattern in self._regexes:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    found.append(_Found(watchlist, "keyword", keyword.name, term, *m.span()))
        if not found:
            return []
        return _hits(text, tokens(text) if spans is None else spans, found)

    def _word_hits(self, text: str, spans: list[Token]) -> list[_Found]:
        found: list[_Found] = []
        for i, word in enumerate(spans):
            phrases, forms = self._lookup(word.surface)
            if phrases:
                found.extend(self._phrase_hits(text, spans, i, phrases))
            if forms:
                found.extend(self._actor_hits(text, spans, i, forms))
        return found

    def _lookup(self, surface: str) -> tuple[list[_Phrase], list[tuple[_NameForm, float]]]:
        """What a written word may start: phrases, and actor spellings if capitalized.

        Remembered across reports (news repeats its words), up to a bound."""
        if surface in self._nothing:
            return _NOTHING
        known = self._memo.get(surface)
        if known is None:
            if len(self._memo) + len(self._nothing) >= _MEMO_WORDS:
                self._memo.clear()
                self._nothing.clear()
            # names are capitalized in every cased script
            forms = [] if surface[0].islower() else self._name_forms(fold_word(surface))
            phrases = self._phrases_for(surface)
            if not (phrases or forms):
                self._nothing.add(surface)
                return _NOTHING
            known = self._memo[surface] = (phrases, forms)
        return known

    def _name_forms(self, folded: str) -> list[tuple[_NameForm, float]]:
        """Listed spellings a word may be: same key after cutting a suffix, else one edit."""
        exact = [
            (form, 1.0)
            for stem in suffix_stems(folded)
            for form in self._names.get(phonetic(stem), ())
        ]
        return exact or self._fuzzy(phonetic(folded))

    def _phrases_for(self, surface: str) -> list[_Phrase]:
        found: dict[int, _Phrase] = {}
        for form in _text_forms(surface):
            for phrase in self._phrases.get(form, ()):
                found[id(phrase)] = phrase
        return list(found.values())

    def _actor_hits(
        self, text: str, words: list[Token], i: int, forms: list[tuple[_NameForm, float]]
    ) -> list[_Found]:
        word = words[i]
        candidates = [
            _Candidate(form, score, self._given_before(text, words, i, form))
            for form, score in forms
        ]
        # "Heydar Aliyev" is not Ilham Aliyev: when one watched first name is there, actors
        # with another first name do not match the bare surname.
        some_given = any(c.given for c in candidates)
        best: dict[tuple[str, str], tuple[tuple[bool, int, float], _Found]] = {}
        for c in candidates:
            if (c.form.actor.require_first_name or some_given) and c.form.given and not c.given:
                continue
            start = words[i - 1].start if c.given else word.start
            method = self._method(words, i, c)
            rank = (c.given, ("fuzzy", "folded", "alias").index(method), c.score)
            key = (c.form.watchlist, c.form.actor.name)
            if key not in best or rank > best[key][0]:
                hit = _Found(
                    c.form.watchlist,
                    "actor",
                    c.form.actor.name,
                    c.form.listed,
                    start,
                    word.end,
                    method,
                    c.score,
                )
                best[key] = (rank, hit)
        return [hit for _, hit in best.values()]

    def _given_before(self, text: str, words: list[Token], i: int, form: _NameForm) -> bool:
        """The word before is this form's first name, inflected or not, or its initial."""
        if not form.given or i == 0:
            return False
        previous = words[i - 1]
        gap = text[previous.end : words[i].start]
        if len(previous.folded) == 1:
            return (
                form.actor.initials
                and previous.surface.isupper()
                and gap.strip() in (".", "")
                and previous.folded == fold(form.given)[:1]
            )
        return not gap.strip() and bool(_keys(previous.surface) & form.given_keys)

    def _method(self, words: list[Token], i: int, c: _Candidate) -> str:
        if c.score < 1.0:
            return "fuzzy"
        if not _same(words[i].surface, c.form.surname):
            return "folded"
        if (
            c.given
            and len(words[i - 1].folded) > 1
            and not _same(words[i - 1].surface, c.form.given)
        ):
            return "folded"
        return "alias"

    def _fuzzy(self, key: str) -> list[tuple[_NameForm, float]]:
        if len(key) < _FUZZY_MIN_CHARS:
            return []
        near: set[str] = set()
        for variant in _deletions(key):
            near |= self._fuzzy_index.get(variant, set())
        out: list[tuple[_NameForm, float]] = []
        for candidate in near:
            score = Levenshtein.normalized_similarity(key, candidate)
            if score >= FUZZY_MIN_SCORE:
                out.extend((form, score) for form in self._names[candidate] if form.actor.fuzzy)
        return out

    def _phrase_hits(
        self, text: str, words: list[Token], i: int, found: list[_Phrase]
    ) -> list[_Found]:
        hits = []
        for phrase in found:
            n = len(phrase.words)
            if i + n > len(words) or not _words_match(text, phrase, words[i : i + n]):
                continue
            if phrase.kind == "keyword":
                method = "keyword"
            else:
                written = " ".join(w.surface for w in words[i : i + n])
                method = "alias" if _same(written, phrase.listed.casefold()) else "folded"
            hits.append(
                _Found(
                    phrase.watchlist,
                    phrase.kind,
                    phrase.name,
                    phrase.listed,
                    words[i].start,
                    words[i + n - 1].end,
                    method,
                )
            )
        return hits


def _word_forms(word: str, inflect: bool) -> frozenset[str]:
    """The folded forms a listed word accepts: itself and, if inflected, its stems."""
    forms = {fold(word), fold_word(word)}
    if inflect:
        forms.update(suffix_stems(fold_word(word), _KEYWORD_MIN_STEM))
    return frozenset(forms)


def _exact_forms(surface: str) -> frozenset[str]:
    return frozenset((fold(surface), fold_word(surface)))


@lru_cache(maxsize=65536)
def _text_forms(surface: str) -> frozenset[str]:
    """The folded forms a written word can match a listed word by."""
    return frozenset((fold(surface), *suffix_stems(fold_word(surface), _KEYWORD_MIN_STEM)))


def _words_match(text: str, phrase: _Phrase, window: list[Token]) -> bool:
    for j, (accepted, got) in enumerate(zip(phrase.words, window, strict=True)):
        written = _text_forms(got.surface) if phrase.inflect else _exact_forms(got.surface)
        if accepted.isdisjoint(written):
            return False
        if j and not _PHRASE_GAP.fullmatch(text, window[j - 1].end, got.start):
            return False
        if phrase.case_sensitive and not unicodedata.normalize("NFC", got.surface).startswith(
            phrase.surfaces[j]
        ):
            return False
    return True


def sentence_starts(text: str, words: list[Token]) -> list[int]:
    """Where sentences begin: after a paragraph break, or a full stop and a capital that
    is not an initial or a title ("R. Mehdiyev", "Dr. Smith")."""
    starts = [0]
    word_ends = [w.end for w in words]
    for m in _SENTENCE_END.finditer(text):
        if m.group(1):
            w = bisect_right(word_ends, m.start(1)) - 1
            before = words[w].folded if w >= 0 and words[w].end == m.start(1) else ""
            if not m.group(2).isupper() or len(before) == 1 or before in _NOT_SENTENCE_END:
                continue
            starts.append(m.start(2))
        else:
            starts.append(m.end())
    return starts


def _hits(text: str, words: list[Token], found: list[_Found]) -> list[Hit]:
    """One hit per (watchlist, kind, name, start), the longest ("coup d'état" over its
    "coup"), with snippet, word and sentence numbers."""
    best: dict[tuple[str, str, str, int], _Found] = {}
    for f in found:
        key = (f.watchlist, f.kind, f.name, f.start)
        if key not in best or f.end > best[key].end:
            best[key] = f
    word_starts = [w.start for w in words]
    sentences = sentence_starts(text, words)
    hits = [
        Hit(
            f.watchlist,
            f.kind,
            f.name,
            text[f.start : f.end],
            f.method,
            f.score,
            f.start,
            f.end,
            snippet(text, f.start, f.end),
            f.listed,
            max(bisect_right(word_starts, f.start) - 1, 0),
            max(bisect_right(sentences, f.start) - 1, 0),
        )
        for f in best.values()
    ]
    return sorted(hits, key=lambda h: (h.start, h.name))
