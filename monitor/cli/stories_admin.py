"""`monitor stories`: list stories, and the analyst's decisions (mute, split, merge)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlmodel import Session

from monitor.cli import read
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
        read.stories(config, database_url, as_json, limit)


def _report(story: Story, message: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"id": story.id, "title": story.title, "muted": story.muted}))
    else:
        out.print(message, highlight=False, markup=False)


@app.command("mute")
def mute(
    story_id: StoryId,
    unmute: Annotated[bool, typer.Option("--unmute", help="Alert on it again.")] = False,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """No more alerts for a story (pending ones are withdrawn); --unmute undoes it."""
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        try:
            story = decisions.mute(session, story_id, not unmute, actor="cli")
        except decisions.DecisionError as exc:
            raise fail(str(exc)) from None
        state = "unmuted" if unmute else "muted"
        _report(story, f"story {story.id} {state}: {story.title}", as_json)


@app.command("split")
def split(
    item_id: Annotated[int, typer.Argument(help="Report (item) id to take out of its story.")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move one report out of its story into a new story of its own."""
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        try:
            story = decisions.split(session, item_id, actor="cli")
        except decisions.DecisionError as exc:
            raise fail(str(exc)) from None
        _report(story, f"report {item_id} is now story {story.id}: {story.title}", as_json)


@app.command("merge")
def merge(
    into: StoryId,
    other: Annotated[int, typer.Argument(help="Story to fold into the first one.")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fold the second story into the first: reports, matches, alerts and links."""
    engine = open_db(settings_from(config, database_url=database_url))
    with Session(engine) as session:
        try:
            story = decisions.merge(session, into, other, actor="cli")
        except decisions.DecisionError as exc:
            raise fail(str(exc)) from None
        _report(story, f"story {other} merged into {story.id}: {story.title}", as_json)
