"""`monitor sources`: source health, feed discovery, and checking the files."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, select

from monitor.cli.common import ConfigOption, DatabaseOption, JsonOption, fail, open_db, out
from monitor.cli.run import SourcesOption, daemon_settings, sources_or_exit
from monitor.daemon.health import status
from monitor.fetch.http import ACCEPT_FEED, FetchError, Limits, fetch, make_session
from monitor.parse.corpus import parse_any_feed
from monitor.parse.entry import ParseError
from monitor.sources.config import SourcesError, load_file
from monitor.sources.discovery import feed_links
from monitor.store.models import Source

app = typer.Typer(help="Sources: health, discovery, checks.", invoke_without_command=True)


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


@app.callback()
def health(
    ctx: typer.Context,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    sources: SourcesOption = None,
    as_json: JsonOption = False,
) -> None:
    """List each configured source with its health."""
    if ctx.invoked_subcommand is not None:
        return
    settings = daemon_settings(config, sources, database_url=database_url)
    configs = sources_or_exit(settings.daemon.sources)
    engine = open_db(settings)
    with Session(engine) as session:
        rows = {s.key: s for s in session.exec(select(Source)).all()}
    listing: list[dict[str, Any]] = []
    for c in configs:
        s = rows.get(c.url)
        state = (
            (status(s) if c.enabled else "disabled") if s else ("new" if c.enabled else "disabled")
        )
        listing.append(
            {
                "name": c.display_name,
                "url": c.url,
                "status": state,
                "last_success": _when(s.last_success_at) if s else None,
                "last_error": s.last_error if s else None,
                "last_error_at": _when(s.last_error_at) if s else None,
                "consecutive_failures": s.consecutive_failures if s else 0,
                "items_seen": s.items_seen if s else 0,
                "next_poll": _when(s.next_poll_at) if s else None,
                "warnings": s.warnings if s else 0,
                "moved_to": s.redirect_url if s else None,
            }
        )
    if as_json:
        out.print_json(json.dumps(listing))
        return
    table = Table("name", "status", "last success", "last error", "fails", "items", "next poll")
    for row in listing:
        error = f"{row['last_error_at'] or ''} {row['last_error'] or ''}".strip()
        table.add_row(
            escape(row["name"]),
            row["status"],
            row["last_success"] or "-",
            escape(error) or "-",
            str(row["consecutive_failures"]),
            str(row["items_seen"]),
            row["next_poll"] or "-",
        )
    out.print(table)


@app.command("check")
def check(config: ConfigOption = None, sources: SourcesOption = None) -> None:
    """Validate the sources files; one line per problem with file, line and column."""
    settings = daemon_settings(config, sources)
    configs = sources_or_exit(settings.daemon.sources)
    out.print(f"{len(configs)} source(s): ok", highlight=False)


async def discover(url: str) -> tuple[str, str | None]:
    """The feed at ``url``, or the first feed the page there announces: (feed URL, title)."""
    async with make_session(Limits()) as session:
        response = await fetch(session, url, headers={"Accept": ACCEPT_FEED})
        try:
            feed = parse_any_feed(response.body, response.url, response.headers)
            return response.permanent_url or url, feed.title
        except ParseError:
            candidates = feed_links(response.body, response.url)
        for candidate in candidates:
            try:
                found = await fetch(session, candidate, headers={"Accept": ACCEPT_FEED})
                return candidate, parse_any_feed(found.body, found.url, found.headers).title
            except (FetchError, ParseError):
                continue
    raise ParseError('neither a feed nor a page that announces one (<link rel="alternate">)')


def append_source(path: Path, entry: dict[str, Any]) -> None:
    """Add one source to a file, keeping its comments; rewrite it only if appending cannot work."""
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    block = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False)
    body = original if original.strip() else "sources:\n"
    body = body if body.endswith("\n") else body + "\n"
    path.write_text(body + "".join(f"  {line}\n" for line in block.splitlines()), encoding="utf-8")
    try:
        load_file(path)
    except SourcesError:
        data = yaml.safe_load(original) or {}
        data.setdefault("sources", []).append(entry)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        load_file(path)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="A feed URL, or a page that announces its feed.")],
    config: ConfigOption = None,
    sources: SourcesOption = None,
    name: Annotated[
        str | None, typer.Option(help="Display name [default: the feed's title].")
    ] = None,
    language: Annotated[str | None, typer.Option(help="Language hint for its items.")] = None,
) -> None:
    """Find the feed at URL and add it to the sources file."""
    settings = daemon_settings(config, sources)
    path = settings.daemon.sources
    if path.is_dir():
        path = path / "sources.yaml"
    try:
        feed_url, title = asyncio.run(discover(url))
    except (FetchError, ParseError) as exc:
        raise fail(f"{url}: {exc}") from None
    if path.exists() and any(s.url == feed_url for s in load_file(path)):
        raise fail(f"{feed_url} is already in {path}", code=1)
    entry: dict[str, Any] = {"url": feed_url, "name": name or title or feed_url}
    if language:
        entry["language"] = language
    append_source(path, entry)
    out.print(f"added {feed_url} ({entry['name']}) to {path}", highlight=False, markup=False)
