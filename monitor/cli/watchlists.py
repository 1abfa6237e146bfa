"""`monitor watchlists`: check watchlist files, and test a draft against stored items."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from monitor.cli.common import (
    ConfigOption,
    DatabaseOption,
    JsonOption,
    WatchlistsOption,
    err,
    open_db,
    out,
    settings_from,
)
from monitor.watchlist.loader import WatchlistError, load_watchlists, watchlist_files
from monitor.watchlist.replay import Replay, StoryHits, replay, replay_json
from monitor.watchlist.schema import Watchlist

app = typer.Typer(no_args_is_help=True, help="Watchlist files.")

_MARKS = {"new": "[green]+[/]", "lost": "[red]-[/]", "kept": " "}
_HIT_LINES = 6


@app.command("check")
def check(
    config: ConfigOption = None,
    watchlists: WatchlistsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate every watchlist file; one line per problem with file, line and column."""
    settings = settings_from(config, watchlists=watchlists)
    files = watchlist_files(settings.watchlists) if settings.watchlists.exists() else []
    try:
        loaded = load_watchlists(settings.watchlists)
    except WatchlistError as exc:
        if as_json:
            problems = [
                {"file": str(p.path), "line": p.line, "column": p.column, "message": p.message}
                for p in exc.problems
            ]
            print(json.dumps({"ok": False, "problems": problems}, ensure_ascii=False, indent=2))
        else:
            for problem in exc.problems:
                err.print(str(problem), style="red", highlight=False, markup=False, soft_wrap=True)
            err.print(
                f"{len(exc.problems)} problem(s); a running monitor keeps alerting on the "
                "last good version until they are fixed",
                highlight=False,
            )
        raise typer.Exit(1) from None
    if as_json:
        names = [w.name for w in loaded]
        print(json.dumps({"ok": True, "files": len(files), "watchlists": names}, indent=2))
        return
    summary = ", ".join(
        f"{w.name} ({len(w.actors)} actors, {len(w.keywords)} keywords, "
        f"{len(w.effective_rules())} rules)"
        for w in loaded
    )
    out.print(f"{len(files)} file(s) ok: {summary}", highlight=False, markup=False)


def _load_or_exit(location: Path) -> list[Watchlist]:
    try:
        return load_watchlists(location)
    except WatchlistError as exc:
        for problem in exc.problems:
            err.print(str(problem), style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command("test")
def test(
    draft: Annotated[Path, typer.Argument(help="Draft watchlist file or folder.")],
    since: Annotated[
        datetime | None,
        typer.Option(help="Only items published (or, if undated, seen) since this UTC date."),
    ] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    watchlists: WatchlistsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay stored items against a draft, sending nothing; show per rule the stories it
    would alert on, with the matched spans, and what changes against the live version."""
    settings = settings_from(config, database_url=database_url, watchlists=watchlists)
    drafted = _load_or_exit(draft)
    live = _load_or_exit(settings.watchlists) if settings.watchlists.exists() else []
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    result = replay(open_db(settings), drafted, live, since)
    if as_json:
        report = {
            "draft": str(draft),
            "live": str(settings.watchlists),
            "since": since.isoformat() if since else None,
            "items": result.items,
            "new": sum(len(d.new) for d in result.rules.values()),
            "lost": sum(len(d.lost) for d in result.rules.values()),
            "rules": replay_json(result),
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_replay(result, draft, settings.watchlists)


def _print_replay(result: Replay, draft: Path, live: Path) -> None:
    out.print(
        f"{result.items} stored item(s) replayed; draft {draft} against live {live}; nothing sent",
        highlight=False,
        markup=False,
    )
    if draft.resolve().is_relative_to(live.resolve()):
        out.print(
            "note: the draft is a live file, so nothing differs; edit a copy to see changes",
            style="yellow",
            highlight=False,
        )
    for (watchlist, name), diff in sorted(result.rules.items()):
        state = (
            ""
            if diff.in_draft and diff.in_live
            else (" (new rule)" if diff.in_draft else " (removed)")
        )
        channels = escape(", ".join(diff.rule.channels))
        out.print(
            f"\n[bold]{escape(watchlist)} / {escape(name)}[/]{state}  {diff.rule.severity} → "
            f"{channels}: {len(diff.draft)} story(ies)"
            f" ([green]+{len(diff.new)} new[/], [red]-{len(diff.lost)} lost[/])",
            highlight=False,
        )
        for change, story in diff.stories():
            out.print(f" {_MARKS[change]} #{story.id} {escape(story.title)}", highlight=False)
            for line in _hit_lines(story):
                out.print(f"      {escape(line)}", highlight=False)


def _hit_lines(story: StoryHits) -> list[str]:
    """Distinct matches of a story, most frequent first, each once with a count."""
    counts: Counter[str] = Counter()
    snippets: dict[str, str] = {}
    for _, hits in story.items.values():
        for hit in hits:
            line = hit.explain()
            counts[line] += 1
            snippets.setdefault(line, hit.snippet)
    lines = [
        f"{line}{f' ×{n}' if n > 1 else ''}  “{snippets[line]}”"
        for line, n in counts.most_common(_HIT_LINES)
    ]
    if len(counts) > _HIT_LINES:
        lines.append(f"… and {len(counts) - _HIT_LINES} more")
    return lines
