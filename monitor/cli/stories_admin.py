"""`monitor stories`: list stories, and the analyst's decisions (mute, split, merge)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import Session

from monitor.cli.common import (
    ConfigOption,
    DatabaseOption,
    JsonOption,
    fail,
    open_db,
    out,
    settings_from,
)
from monitor.store.models import Story
from monitor.store.queries import stories_json
from monitor.story import decisions

app = typer.Typer(help="Stories: list them (no command), or decide about one.")

StoryId = Annotated[int, typer.Argument(help="Story id, as `monitor stories` shows it.")]


@app.callback(invoke_without_command=True)
def stories(
    ctx: typer.Context,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int | None, typer.Option(help="Newest N stories only.")] = None,
) -> None:
    """List stories, newest first, with their sources and matches."""
    if ctx.invoked_subcommand is None:
        _list(config, database_url, as_json, limit)


def _list(config: Path | None, database_url: str | None, as_json: bool, limit: int | None) -> None:
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        rows = stories_json(session, limit)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("id", "published", "langs", "title", "sources", "matched", "related")
    for s in rows:
        matched = sorted({f"{m['name']}" for m in s["matches"]})
        table.add_row(
            str(s["id"]),
            (s["published"] or "")[:10],
            ",".join(s["languages"]),
            s["title"],
            "\n".join(f"{i['language'] or '??'} {i['source']}" for i in s["items"]),
            ", ".join(matched),
            ", ".join(map(str, s["related"])),
        )
    out.print(table)


def _decide(
    config: Path | None,
    database_url: str | None,
    as_json: bool,
    act: Callable[[Session], Story],
    said: Callable[[Story], str],
) -> None:
    """Run one analyst decision in a session and report the story it leaves."""
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        try:
            story = act(session)
        except decisions.DecisionError as exc:
            raise fail(str(exc)) from None
        if as_json:
            print(json.dumps({"id": story.id, "title": story.title, "muted": story.muted}))
        else:
            out.print(said(story), highlight=False, markup=False)


@app.command("mute")
def mute(
    story_id: StoryId,
    unmute: Annotated[bool, typer.Option("--unmute", help="Alert on it again.")] = False,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """No more alerts for a story (pending ones are withdrawn); --unmute undoes it."""
    state = "unmuted" if unmute else "muted"
    _decide(
        config,
        database_url,
        as_json,
        lambda session: decisions.mute(session, story_id, not unmute, actor="cli"),
        lambda story: f"story {story.id} {state}: {story.title}",
    )


@app.command("split")
def split(
    item_id: Annotated[int, typer.Argument(help="Report (item) id to take out of its story.")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move one report out of its story into a new story of its own."""
    _decide(
        config,
        database_url,
        as_json,
        lambda session: decisions.split(session, item_id, actor="cli"),
        lambda story: f"report {item_id} is now story {story.id}: {story.title}",
    )


@app.command("merge")
def merge(
    into: StoryId,
    other: Annotated[int, typer.Argument(help="Story to fold into the first one.")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fold the second story into the first: reports, matches, alerts and links."""
    _decide(
        config,
        database_url,
        as_json,
        lambda session: decisions.merge(session, into, other, actor="cli"),
        lambda story: f"story {other} merged into {story.id}: {story.title}",
    )
