"""Find watchlist actors and keywords in a report, and say how each was found.

Every name and term is compiled into hash indexes keyed by folded and phonetic forms, so a
report costs one look-up per word, however many names are watched. The fuzzy layer compares
a word only with the watched names of the same first letters and similar length.

Methods: ``alias`` (written as listed), ``folded`` (the same after script, diacritic and
transliteration folding, inflection suffixes cut), ``fuzzy`` (a close spelling, with score),
``keyword`` (a keyword term).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from monitor.textfold import Token, fold, fold_word, phonetic, suffix_stems, tokens
from monitor.watchlist.schema import Actor, Keyword, Rule, Watchlist

FUZZY_MIN_SCORE = 0.88
_FUZZY_MIN_CHARS = 5
_SNIPPET_CHARS = 70


@dataclass(frozen=True, slots=True)
class Hit:
    """One actor or keyword found in a text, with its span and how it was found."""

    watchlist: str
    kind: str  # actor or keyword
    name: str
    term: str
    method: str
    score: float
    start: int
    end: int
    snippet: str


@dataclass(frozen=True, slots=True)
class RuleMatch:
    watchlist: str
    rule: Rule
    hits: tuple[Hit, ...]


@dataclass(frozen=True, slots=True)
class _NameForm:
    """One listed spelling of an actor: surname key plus the given names before it."""

    watchlist: str
    actor: Actor
    surface: str  # the key word as listed, lower case
    given: tuple[str, ...]  # phonetic keys of first names


@dataclass(frozen=True, slots=True)
class _Phrase:
    watchlist: str
    kind: str
    name: str
    words: tuple[str, ...]  # folded words; the last may carry inflection
    case_sensitive: bool = False
    surfaces: tuple[str, ...] = ()


def snippet(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - _SNIPPET_CHARS), min(len(text), end + _SNIPPET_CHARS)
    body = " ".join(text[lo:hi].split())
    return f"{'…' if lo else ''}{body}{'…' if hi < len(text) else ''}"


@dataclass
class Matcher:
    """Compiled watchlists; build once per watchlist version, use for every report."""

    watchlists: list[Watchlist]
    _names: dict[str, list[_NameForm]] = field(default_factory=lambda: defaultdict(list))
    _fuzzy_buckets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _phrases: dict[str, list[_Phrase]] = field(default_factory=lambda: defaultdict(list))
    _regexes: list[tuple[str, Keyword, re.Pattern[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for watchlist in self.watchlists:
            assert watchlist.name is not None
            for actor in watchlist.actors:
                self._add_actor(watchlist.name, actor)
            for keyword in watchlist.keywords:
                self._add_keyword(watchlist.name, keyword)

    def _add_actor(self, watchlist: str, actor: Actor) -> None:
        for spelling in (actor.name, *actor.aliases):
            words = [t.folded for t in tokens(spelling)]
            if not words:
                continue
            if actor.type != "person" and len(words) > 1:  # "Russian House": a phrase
                self._add_phrase(_Phrase(watchlist, "actor", actor.name, tuple(words)))
                continue
            surname = words[-1]
            key = phonetic(surname)
            form = _NameForm(
                watchlist,
                actor,
                tokens(spelling)[-1].surface.lower(),
                tuple(phonetic(w) for w in words[:-1]),
            )
            self._names[key].append(form)
            if actor.fuzzy and len(key) >= _FUZZY_MIN_CHARS:
                self._fuzzy_buckets[key[:2]].add(key)

    def _add_keyword(self, watchlist: str, keyword: Keyword) -> None:
        for term in keyword.terms:
            if keyword.regex:
                flags = 0 if keyword.case_sensitive else re.IGNORECASE
                self._regexes.append((watchlist, keyword, re.compile(term, flags)))
                continue
            term_tokens = tokens(term)
            if term_tokens:
                self._add_phrase(
                    _Phrase(
                        watchlist,
                        "keyword",
                        keyword.name,
                        tuple(t.folded for t in term_tokens),
                        keyword.case_sensitive,
                        tuple(t.surface for t in term_tokens),
                    )
                )

    def _add_phrase(self, phrase: _Phrase) -> None:
        self._phrases[phrase.words[0]].append(phrase)

    # -- matching -------------------------------------------------------------------------

    def find(self, text: str) -> list[Hit]:
        """Every actor and keyword occurrence in ``text``."""
        words = tokens(text)
        hits: list[Hit] = []
        for i in range(len(words)):
            hits.extend(self._actor_hits(text, words, i))
            hits.extend(self._phrase_hits(text, words, i))
        for watchlist, keyword, pattern in self._regexes:
            for m in pattern.finditer(text):
                hits.append(
                    Hit(
                        watchlist,
                        "keyword",
                        keyword.name,
                        m.group(),
                        "keyword",
                        1.0,
                        m.start(),
                        m.end(),
                        snippet(text, m.start(), m.end()),
                    )
                )
        return _longest_per_start(hits)

    def _actor_hits(self, text: str, words: list[Token], i: int) -> list[Hit]:
        word = words[i]
        if not word.surface[:1].isupper():
            return []  # names are capitalized in every cased script
        found: dict[tuple[str, str], Hit] = {}
        for stem in suffix_stems(word.folded):
            key = phonetic(stem)
            candidates = [(f, 1.0) for f in self._names.get(key, ())]
            if not candidates and stem is word.folded:
                candidates = self._fuzzy(key)
            for form, score in candidates:
                hit = self._name_hit(text, words, i, form, score)
                if hit and (hit.watchlist, hit.name) not in found:
                    found[(hit.watchlist, hit.name)] = hit
        return list(found.values())

    def _fuzzy(self, key: str) -> list[tuple[_NameForm, float]]:
        if len(key) < _FUZZY_MIN_CHARS:
            return []
        out: list[tuple[_NameForm, float]] = []
        for candidate in self._fuzzy_buckets.get(key[:2], ()):
            if abs(len(candidate) - len(key)) > 2:
                continue
            score = Levenshtein.normalized_similarity(key, candidate)
            if score >= FUZZY_MIN_SCORE:
                out.extend((form, score) for form in self._names[candidate])
        return out

    def _name_hit(
        self, text: str, words: list[Token], i: int, form: _NameForm, score: float
    ) -> Hit | None:
        start = words[i].start
        given_found = False
        if form.given and i > 0:
            previous = words[i - 1]
            before = text[previous.end : words[i].start]
            initial = previous.folded[:1]
            if phonetic(previous.folded) == form.given[-1] or (
                len(previous.folded) == 1
                and initial == form.given[-1][:1]
                and before.strip() in (".", "")
            ):
                start, given_found = previous.start, True
        if form.actor.require_first_name and not given_found:
            return None
        surface = words[i].surface
        bare = re.split(r"['’‘`ʼ]", surface, maxsplit=1)[0].lower()
        if score < 1.0:
            method = "fuzzy"
        elif bare == form.surface:
            method = "alias"
        else:
            method = "folded"
        end = words[i].end
        return Hit(
            form.watchlist,
            "actor",
            form.actor.name,
            text[start:end],
            method,
            score,
            start,
            end,
            snippet(text, start, end),
        )

    def _phrase_hits(self, text: str, words: list[Token], i: int) -> list[Hit]:
        hits = []
        for stem in suffix_stems(words[i].folded):
            for phrase in self._phrases.get(stem, ()):
                n = len(phrase.words)
                if i + n > len(words) or (n > 1 and stem != words[i].folded):
                    continue
                window = words[i : i + n]
                if not _words_match(phrase, window):
                    continue
                start, end = window[0].start, window[-1].end
                method = "keyword" if phrase.kind == "keyword" else "alias"
                hits.append(
                    Hit(
                        phrase.watchlist,
                        phrase.kind,
                        phrase.name,
                        text[start:end],
                        method,
                        1.0,
                        start,
                        end,
                        snippet(text, start, end),
                    )
                )
        return hits


def _longest_per_start(hits: list[Hit]) -> list[Hit]:
    """One hit per (watchlist, kind, name, start): "coup d'état" wins over its "coup"."""
    best: dict[tuple[str, str, str, int], Hit] = {}
    for hit in hits:
        key = (hit.watchlist, hit.kind, hit.name, hit.start)
        if key not in best or hit.end > best[key].end:
            best[key] = hit
    return sorted(best.values(), key=lambda h: (h.start, h.name))


def _words_match(phrase: _Phrase, window: list[Token]) -> bool:
    last = len(phrase.words) - 1
    for j, (want, got) in enumerate(zip(phrase.words, window, strict=True)):
        accepted = suffix_stems(got.folded) if j == last else [got.folded]
        if want not in accepted:
            return False
        if phrase.case_sensitive and not fold_word(got.surface).startswith(
            fold(phrase.surfaces[j])
        ):
            return False
    return True


def evaluate(watchlists: list[Watchlist], hits: list[Hit]) -> list[RuleMatch]:
    """The rules a report's hits satisfy, each with the hits that satisfy it."""
    matches = []
    for watchlist in watchlists:
        mine = [h for h in hits if h.watchlist == watchlist.name]
        present = {h.name for h in mine}
        for rule in watchlist.effective_rules():
            if not all(ref in present for ref in rule.all):
                continue
            if rule.any and not any(ref in present for ref in rule.any):
                continue
            if any(ref in present for ref in rule.none):
                continue
            wanted = set(rule.all) | set(rule.any)
            assert watchlist.name is not None
            matches.append(
                RuleMatch(watchlist.name, rule, tuple(h for h in mine if h.name in wanted))
            )
    return matches
