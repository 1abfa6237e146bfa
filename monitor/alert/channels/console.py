"""The console channel: a briefing printed for the operator, optionally appended as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from monitor.alert.briefing import Briefing

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


class ConsoleChannel:
    name = "console"

    def __init__(self, console: Console | None = None, jsonl: Path | None = None) -> None:
        self.console = console or Console()
        self.jsonl = jsonl

    def send(self, briefing: Briefing) -> str:
        style = _SEVERITY_STYLE.get(briefing.severity, "white")
        route = f"{escape(briefing.watchlist)} / {escape(briefing.rule)}"
        title = f"[{style}]{briefing.severity.upper()}[/] {route}"
        self.console.print(
            Panel(render_text(briefing), title=title, title_align="left", expand=False)
        )
        if self.jsonl is not None:
            with self.jsonl.open("a", encoding="utf-8") as out:
                out.write(json.dumps(briefing.to_json(), ensure_ascii=False) + "\n")
        return f"console:{briefing.alert_id}"
