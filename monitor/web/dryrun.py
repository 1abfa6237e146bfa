"""Dry run of a draft watchlist over stored reports: what it would alert on, what changes.

The same question `monitor watchlists test` answers. ``dry_run`` is the console's only way
in: when the CLI's replay engine lands, this is the one call to point at it.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from monitor.store.models import Item, Story
from monitor.watchlist.loader import WatchlistError, load_file
from monitor.watchlist.matcher import Matcher, evaluate
from monitor.watchlist.schema import Watchlist

MAX_ITEMS = 5000  # newest reports replayed; a dry run must answer while the operator waits


@dataclass(slots=True)
class DryRun:
    """Per (watchlist, rule): stories the draft alerts on, and how that differs from live."""

    problems: list[str] = field(default_factory=list)
    items_checked: int = 0
    rules: list[dict[str, Any]] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)
    lost: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": not self.problems,
            "problems": self.problems,
            "items_checked": self.items_checked,
            "rules": self.rules,
            "new": self.new,
            "lost": self.lost,
        }


def parse_draft(text: str, name: str) -> Watchlist:
    """Validate a pasted or uploaded draft exactly as a file on disk would be."""
    stem = re.sub(r"[^\w.-]", "_", Path(name).stem, flags=re.ASCII).strip(".") or "draft"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{stem}.yaml"
        path.write_bytes(text.encode("utf-8", errors="replace"))
        try:
            return load_file(path)
        except WatchlistError as exc:
            for problem in exc.problems:
                problem.path = Path(f"{stem}.yaml")
            raise


def dry_run(
    session: Session,
    draft_text: str,
    draft_name: str,
    live: list[Watchlist],
    since: datetime | None = None,
) -> DryRun:
    """Replay stored reports against the draft and the live watchlist of the same name."""
    result = DryRun()
    try:
        draft = parse_draft(draft_text, draft_name)
    except WatchlistError as exc:
        result.problems = [str(p) for p in exc.problems]
        return result
    current = [w for w in live if w.name == draft.name]
    query = select(Item, Story).join(Story, col(Story.id) == Item.story_id)
    if since is not None:
        query = query.where(col(Item.first_seen) >= since)
    rows = session.exec(query.order_by(col(Item.id).desc()).limit(MAX_ITEMS)).all()
    result.items_checked = len(rows)
    drafted, lived = _hits(rows, [draft]), _hits(rows, current)
    for key in sorted(drafted):
        result.rules.append(_rule_json(key, drafted[key]))
    for key in sorted(set(drafted) | set(lived)):
        gained = set(drafted.get(key, {})) - set(lived.get(key, {}))
        gone = set(lived.get(key, {})) - set(drafted.get(key, {}))
        titles = drafted.get(key, {}) | lived.get(key, {})
        result.new += [_story_json(key, s, titles[s]) for s in sorted(gained)]
        result.lost += [_story_json(key, s, titles[s]) for s in sorted(gone)]
    return result


def _hits(
    rows: Any, watchlists: list[Watchlist]
) -> dict[tuple[str, str], dict[int, dict[str, Any]]]:
    """(watchlist, rule) → story id → the story's title and the terms that matched."""
    found: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    if not watchlists:
        return found
    matcher = Matcher(watchlists)
    for item, story in rows:
        hits = matcher.find(f"{item.title}\n\n{item.text}")
        for match in evaluate(watchlists, hits):
            entry = found.setdefault((match.watchlist, match.rule.name), {}).setdefault(
                story.id, {"title": story.title, "terms": set()}
            )
            entry["terms"].update(f"{h.term} ({h.name}, {h.method})" for h in match.hits)
    return found


def _story_json(key: tuple[str, str], story_id: int, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "watchlist": key[0],
        "rule": key[1],
        "story_id": story_id,
        "title": entry["title"],
        "terms": sorted(entry["terms"]),
    }


def _rule_json(key: tuple[str, str], stories: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "watchlist": key[0],
        "rule": key[1],
        "stories": [_story_json(key, sid, entry) for sid, entry in sorted(stories.items())],
    }
