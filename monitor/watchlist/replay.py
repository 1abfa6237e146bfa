"""Replay stored items against a draft watchlist and the live one, sending nothing.

This is how an operator edits safely: per rule, the stories the draft would alert on, with
the matched spans, and what changes against the version in force (new hits, lost hits).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, or_
from sqlmodel import Session, col, select

from monitor.store.models import Item, Source, Story
from monitor.watchlist.matcher import Hit, Matcher, ReportFacts, RuleMatch, evaluate
from monitor.watchlist.schema import Rule, Watchlist

_BATCH = 500


@dataclass(slots=True)
class StoredItem:
    id: int
    story_id: int
    title: str
    text: str
    facts: ReportFacts


@dataclass(slots=True)
class StoryHits:
    """A story a rule alerts on, with the hits of each item that made it."""

    id: int
    title: str
    items: dict[int, tuple[str, list[Hit]]] = field(default_factory=dict)


@dataclass(slots=True)
class RuleDiff:
    watchlist: str
    rule: Rule
    in_draft: bool
    in_live: bool
    draft: dict[int, StoryHits] = field(default_factory=dict)
    live: dict[int, StoryHits] = field(default_factory=dict)

    @property
    def new(self) -> list[int]:
        return sorted(set(self.draft) - set(self.live))

    @property
    def lost(self) -> list[int]:
        return sorted(set(self.live) - set(self.draft))

    def stories(self) -> Iterator[tuple[str, StoryHits]]:
        """Every story of either version, marked new, kept or lost, oldest id first."""
        for story_id in sorted(set(self.draft) | set(self.live)):
            if story_id not in self.live:
                yield "new", self.draft[story_id]
            elif story_id not in self.draft:
                yield "lost", self.live[story_id]
            else:
                yield "kept", self.draft[story_id]


@dataclass(slots=True)
class Replay:
    items: int = 0
    rules: dict[tuple[str, str], RuleDiff] = field(default_factory=dict)

    def add(
        self, version: str, item: StoredItem, story_title: str, matches: list[RuleMatch]
    ) -> None:
        for match in matches:
            key = (match.watchlist, match.rule.name)
            diff = self.rules.setdefault(key, RuleDiff(match.watchlist, match.rule, False, False))
            stories = diff.draft if version == "draft" else diff.live
            story = stories.setdefault(item.story_id, StoryHits(item.story_id, story_title))
            story.items[item.id] = (item.title, list(match.hits))


def stored_items(engine: Engine, since: datetime | None) -> Iterator[tuple[StoredItem, str]]:
    """Items (published, or first seen if undated, at or after ``since``) and story titles."""
    query = (
        select(Item, Source, Story.title)
        .join(Source, col(Source.id) == Item.source_id)
        .join(Story, col(Story.id) == Item.story_id)
        .order_by(col(Item.id))
    )
    if since is not None:
        query = query.where(
            or_(
                col(Item.published) >= since,
                and_(col(Item.published).is_(None), col(Item.first_seen) >= since),
            )
        )
    with Session(engine) as session:
        for item, source, story_title in session.exec(query.execution_options(yield_per=_BATCH)):
            assert item.id is not None and item.story_id is not None
            facts = ReportFacts.of(
                item.language,
                item.published,
                item.first_seen,
                item.outlet,
                item.url,
                source.name,
                source.key,
                source.url,
            )
            stored = StoredItem(item.id, item.story_id, item.title, item.text, facts)
            yield stored, story_title


def replay(
    engine: Engine, draft: list[Watchlist], live: list[Watchlist], since: datetime | None
) -> Replay:
    """Match every stored item with both versions. Only the live watchlists the draft
    names take part: a draft of one file is compared with that file, not with all."""
    names = {w.name for w in draft}
    live = [w for w in live if w.name in names]
    versions = {"draft": (draft, Matcher(draft)), "live": (live, Matcher(live))}
    result = Replay()
    for item, story_title in stored_items(engine, since):
        result.items += 1
        text = f"{item.title}\n\n{item.text}"  # as the pipeline matches it (Article.full_text)
        for version, (watchlists, matcher) in versions.items():
            matches = evaluate(watchlists, matcher.find(text), item.facts)
            result.add(version, item, story_title, matches)
    for version, (watchlists, _) in versions.items():
        for watchlist in watchlists:
            assert watchlist.name is not None
            for rule in watchlist.effective_rules():
                diff = result.rules.setdefault(
                    (watchlist.name, rule.name), RuleDiff(watchlist.name, rule, False, False)
                )
                if version == "draft":
                    diff.in_draft, diff.rule = True, rule
                else:
                    diff.in_live = True
    return result


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "kind": hit.kind,
        "name": hit.name,
        "term": hit.term,
        "listed": hit.listed,
        "method": hit.method,
        "score": round(hit.score, 3),
        "span": [hit.start, hit.end],
        "snippet": hit.snippet,
    }


def replay_json(result: Replay) -> list[dict[str, Any]]:
    """Per rule, every story of either version with its change and matched spans."""
    rules = []
    for (watchlist, name), diff in sorted(result.rules.items()):
        rules.append(
            {
                "watchlist": watchlist,
                "rule": name,
                "severity": diff.rule.severity,
                "channels": diff.rule.channels,
                "in_draft": diff.in_draft,
                "in_live": diff.in_live,
                "new": diff.new,
                "lost": diff.lost,
                "stories": [
                    {
                        "id": story.id,
                        "title": story.title,
                        "change": change,
                        "items": [
                            {"id": item_id, "title": title, "hits": [hit_json(h) for h in hits]}
                            for item_id, (title, hits) in sorted(story.items.items())
                        ],
                    }
                    for change, story in diff.stories()
                ],
            }
        )
    return rules
