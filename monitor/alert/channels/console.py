"""The console channel: a briefing printed for the operator, optionally appended as JSON lines."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from monitor.alert.briefing import Briefing
from monitor.alert.channels import Outgoing, Policy, subject

_SEVERITY_STYLE = {"info": "cyan", "warning": "yellow", "critical": "bold red"}


def _date(briefing_date: object) -> str:
    return (
        briefing_date.strftime("%Y-%m-%d %H:%M UTC")
        if hasattr(briefing_date, "strftime")
        else "date unknown"
    )


def render_text(briefing: Briefing) -> str:
    """The briefing as rich markup; all feed text is escaped."""
    lines = [f"[bold]{escape(briefing.title)}[/bold]", ""]
    lines.append(f"[dim]first seen {_date(briefing.first_seen)} · story {briefing.story_id}[/dim]")
    lines.append("")
    lines.append("[bold]Sources[/bold]")
    for s in briefing.sources:
        when = _date(s.published) + (
            " (estimated)" if s.published_estimated and s.published else ""
        )
        link = f" {escape(s.url)}" if s.url else ""
        link = link or (f" {escape(s.external_id)}" if s.external_id else "")
        lines.append(f"  • \\[{escape(s.language or '??')}] {escape(s.outlet)} · {when}{link}")
        lines.append(f"    {escape(s.title)}")
    lines.append("")
    lines.append("[bold]Why it matched[/bold]")
    for m in briefing.matches:
        how = f"{m.method} {m.score:.2f}" if m.method == "fuzzy" else m.method
        lines.append(f"  • {m.kind} [bold]{escape(m.name)}[/bold] as “{escape(m.term)}” ({how})")
        lines.append(f"    [dim]{escape(m.snippet)}[/dim]")
    if briefing.related:
        lines.append("")
        lines.append("[bold]Earlier related[/bold]")
        for r in briefing.related:
            link = f" {escape(r.url)}" if r.url else ""
            reason = f"[dim]({escape(r.reason)})[/dim]"
            lines.append(f"  • {_date(r.published)[:10]} {escape(r.title)}{link} {reason}")
    return "\n".join(lines)


def render_update(briefing: Briefing) -> str:
    lines = [f"[bold]New report[/bold] on story {briefing.story_id}: {escape(briefing.title)}"]
    for s in briefing.sources:
        link = f" {escape(s.url)}" if s.url else ""
        lines.append(
            f"  • \\[{escape(s.language or '??')}] {escape(s.outlet)} · {_date(s.published)}{link}"
        )
        lines.append(f"    {escape(s.title)}")
    return "\n".join(lines)


def render_digest(message: Outgoing) -> str:
    return "\n".join(
        f"  • {_date(b.first_seen)[:10]} {escape(b.title)} [dim](story {b.story_id})[/dim]"
        for b in message.briefings
    )


class ConsoleChannel:
    name = "console"
    policy = Policy()

    def __init__(self, console: Console | None = None, jsonl: Path | None = None) -> None:
        self.console = console or Console()
        self.jsonl = jsonl

    async def send(self, message: Outgoing) -> str:
        briefing = message.briefing
        style = _SEVERITY_STYLE.get(briefing.severity, "white")
        route = f"{escape(briefing.watchlist)} / {escape(briefing.rule)}"
        title = f"[{style}]{briefing.severity.upper()}[/] {route}"
        if message.kind == "update":
            body = render_update(briefing)
        elif message.kind == "digest":
            title, body = escape(subject(message)), render_digest(message)
        else:
            body = render_text(briefing)
        self.console.print(Panel(body, title=title, title_align="left", expand=False))
        if self.jsonl is not None:
            record = {"key": message.key, "kind": message.kind, "parent_key": message.parent_key}
            with self.jsonl.open("a", encoding="utf-8") as out:
                for b in message.briefings:
                    line = record | b.to_json()
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return f"console:{message.key}"

    async def find(self, message: Outgoing, since: datetime) -> str | None:
        return None

    async def aclose(self) -> None:
        return None
