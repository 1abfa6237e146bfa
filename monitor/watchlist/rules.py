"""Decide which rules a report's hits satisfy: all / any / none, proximity, filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from monitor.watchlist.schema import Rule, Watchlist

if TYPE_CHECKING:
    from monitor.watchlist.matcher import Hit


@dataclass(frozen=True, slots=True)
class RuleMatch:
    watchlist: str
    rule: Rule
    hits: tuple[Hit, ...]


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What rule filters look at besides the text. Unknown facts pass time filters: an
    undated report must not lose its alert; a language filter needs a known language."""

    language: str | None = None
    sources: tuple[str, ...] = ()
    published: datetime | None = None
    seen: datetime | None = None

    @classmethod
    def of(
        cls,
        language: str | None,
        published: datetime | None,
        seen: datetime | None,
        *sources: str | None,
    ) -> ReportFacts:
        """Facts from stored values; URLs among ``sources`` also give their host."""
        labels: list[str] = []
        for value in filter(None, sources):
            labels.append(value)
            if value.startswith(("http://", "https://")):
                labels.append(urlsplit(value).hostname or "")
        return cls(language, tuple(dict.fromkeys(filter(None, labels))), published, seen)


def evaluate(
    watchlists: list[Watchlist], hits: list[Hit], facts: ReportFacts | None = None
) -> list[RuleMatch]:
    """The rules a report's hits satisfy, each with the hits that satisfy it."""
    facts = facts or ReportFacts()
    by_watchlist: dict[str, list[Hit]] = {}
    for hit in hits:
        by_watchlist.setdefault(hit.watchlist, []).append(hit)
    matches = []
    for watchlist in watchlists:
        assert watchlist.name is not None
        mine = by_watchlist.get(watchlist.name)
        if not mine:
            continue
        for rule in watchlist.effective_rules():
            if not passes_filters(rule, facts):
                continue
            counted = [h for h in mine if h.score >= rule.min_score]
            if any(h.name in rule.none for h in counted):
                continue
            wanted = set(rule.all) | set(rule.any)
            chosen = satisfying(rule, [h for h in counted if h.name in wanted])
            if chosen:
                matches.append(RuleMatch(watchlist.name, rule, tuple(chosen)))
    return matches


def passes_filters(rule: Rule, facts: ReportFacts) -> bool:
    if rule.languages and facts.language not in rule.languages:
        return False
    if rule.sources and not any(
        fnmatchcase(label.casefold(), pattern.casefold())
        for label in facts.sources
        for pattern in rule.sources
    ):
        return False
    published = facts.published
    if published is not None:
        if rule.after and published < rule.after:
            return False
        if rule.before and published >= rule.before:
            return False
        if rule.max_age and facts.seen and facts.seen - published > rule.max_age:
            return False
    return True


def _covers(rule: Rule, hits: list[Hit]) -> bool:
    present = {h.name for h in hits}
    return all(r in present for r in rule.all) and (
        not rule.any or any(r in present for r in rule.any)
    )


def satisfying(rule: Rule, hits: list[Hit]) -> list[Hit]:
    """The hits that make the rule true, within its proximity; none if it is false."""
    if not _covers(rule, hits):
        return []
    if rule.within is None and not rule.same_sentence:
        return hits
    groups: dict[int, list[Hit]] = {}
    for hit in sorted(hits, key=lambda h: (h.word, h.start)):
        groups.setdefault(hit.sentence if rule.same_sentence else 0, []).append(hit)
    chosen: dict[tuple[int, str], Hit] = {}
    for group in groups.values():
        windows = [group] if rule.within is None else _windows(group, rule.within)
        for window in windows:
            if _covers(rule, window):
                chosen.update(((h.start, h.name), h) for h in window)
    return sorted(chosen.values(), key=lambda h: (h.start, h.name))


def _windows(hits: list[Hit], within: int) -> list[list[Hit]]:
    """Each run of hits that starts at one hit and spans at most ``within`` words."""
    return [[h for h in hits[i:] if h.word - first.word <= within] for i, first in enumerate(hits)]
