"""The seed corpus backfilled with --deliver through the real CLI and pipeline, to a server that
answers like Slack and a real SMTP server: one alert for the coup story, the Turkish report as
a thread reply and an email follow-up, the February analysis linked as earlier related."""

from __future__ import annotations

import asyncio
import json
import re
from email.message import EmailMessage
from pathlib import Path

import yaml
from alert_servers import FakeSlack, Mailbox, write_channels
from typer.testing import CliRunner

from monitor.cli import app

COUP = "Moscow warns Azerbaijan of planned coup by head of Presidential Administration"
ANALYSIS = "Internal Political Aspects of I. Aliyev's Initiative toward Russia"


def routed_watchlists(repo_watchlists: Path, tmp_path: Path) -> Path:
    """The repository's watchlist with the coup rule routed to Slack and email."""
    data = yaml.safe_load((repo_watchlists / "azerbaijan-russia.yaml").read_text())
    for rule in data["rules"]:
        if rule["name"] == "coup-in-baku":
            rule["channels"] = ["slack", "email"]
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "azerbaijan-russia.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return folder


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


async def backfill(tmp_path: Path, *args: str) -> str:
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, app, ["backfill", *args, "--database-url", f"sqlite:///{tmp_path / 'm.db'}"]
    )
    assert result.exit_code == 0, result.output
    return result.output


async def test_seed_coup_story_is_one_alert_with_a_thread_reply(
    tmp_path: Path,
    seeds_dir: Path,
    watchlists_dir: Path,
    slack: FakeSlack,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    channels = write_channels(tmp_path / "channels.yaml", slack.url, port)
    watchlists = routed_watchlists(watchlists_dir, tmp_path)
    common = [str(seeds_dir), "-w", str(watchlists), "--channels", str(channels), "-q"]
    await backfill(tmp_path, *common, "--deliver")

    # Slack: exactly one top-level message, for the coup story, and one reply in its thread.
    [alert] = slack.top_level()
    assert slack.key(alert).startswith("alert-")
    assert alert["text"] == f"[CRITICAL azerbaijan-russia/coup-in-baku] {COUP}"
    assert alert["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": COUP}}
    sections = [b["text"]["text"] for b in alert["blocks"] if b["type"] == "section"]
    assert sections[0] == (f"*Sources*\n• `en` seeds · 2025-10-09 00:00 UTC (estimated) · {COUP}")
    related = sections[-1].splitlines()
    assert related[0] == "*Earlier related*"
    assert related[1].startswith(f"• 2025-02-21 {ANALYSIS} (")
    [reply] = slack.replies(alert["ts"])
    assert reply == slack.messages[1]
    reply_sections = [b["text"]["text"] for b in reply["blocks"]]
    assert reply_sections[0] == (
        "*New report*\n• `tr` seeds · 2025-10-18 21:23 UTC · Azerbaycan Cumhurbaşkanı "
        "İlham Aliyev'e Yapılması Planlaan Darbe Planı İfşa Oldu"
    )
    assert reply["text"].startswith("New report: seeds (tr): Azerbaycan Cumhurbaşkanı")
    assert len(slack.messages) == 2

    # Email: the alert, then a follow-up that threads under it.
    first, follow_up = box.messages
    assert first["Subject"] == f"[CRITICAL azerbaijan-russia/coup-in-baku] {COUP}"
    assert re.fullmatch(r"<alert-\d+\.\d{20}@alerts\.example\.org>", first["Message-ID"])
    assert follow_up["Subject"] == f"Re: [CRITICAL azerbaijan-russia/coup-in-baku] {COUP}"
    assert follow_up["In-Reply-To"] == first["Message-ID"]
    assert follow_up["References"] == first["Message-ID"]
    text = body(first, "plain")
    html = body(first, "html")
    assert "Earlier related\n- 2025-02-21 " + ANALYSIS in text
    assert "Ilham Aliyev" in text and "İlham" not in text  # the Turkish report is the follow-up
    assert f"<h2>{COUP}</h2>" in html
    assert "Internal Political Aspects of I. Aliyev&#x27;s Initiative toward Russia" in html
    follow_text = body(follow_up, "plain")
    assert follow_text.startswith("New report on this story:\n\n- [tr] seeds · 2025-10-18 21:23")

    # Re-running the backfill sends nothing again.
    await backfill(tmp_path, *common, "--deliver")
    assert len(slack.messages) == 2 and len(box.raw) == 2
    listed = CliRunner().invoke(
        app, ["alerts", "--json", "--database-url", f"sqlite:///{tmp_path / 'm.db'}"]
    )
    external = [a for a in json.loads(listed.output) if a["channel"] != "console"]
    assert [(a["channel"], a["state"]) for a in external] == [("slack", "sent"), ("email", "sent")]


async def test_backfill_without_deliver_never_sends_later(
    tmp_path: Path,
    seeds_dir: Path,
    watchlists_dir: Path,
    slack: FakeSlack,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    channels = write_channels(tmp_path / "channels.yaml", slack.url, port)
    watchlists = routed_watchlists(watchlists_dir, tmp_path)
    db = f"sqlite:///{tmp_path / 'm.db'}"
    await backfill(tmp_path, str(seeds_dir), "-w", str(watchlists), "-q")
    runner = CliRunner()
    deliver = ["alerts", "deliver", "--database-url", db, "--channels", str(channels)]
    result = await asyncio.to_thread(runner.invoke, app, deliver)
    assert result.exit_code == 0, result.output
    assert slack.messages == [] and box.raw == []
    rows = json.loads(runner.invoke(app, ["alerts", "--json", "--database-url", db]).output)
    recorded = [a for a in rows if a["channel"] != "console"]
    assert {a["state"] for a in recorded} == {"recorded"}

    # Unless asked: an operator retries one alert, and it goes with its follow-up.
    slack_alert = next(a for a in recorded if a["channel"] == "slack")
    result = runner.invoke(app, ["alerts", "retry", str(slack_alert["id"]), "--database-url", db])
    assert result.exit_code == 0, result.output
    result = await asyncio.to_thread(runner.invoke, app, deliver)
    assert result.exit_code == 0, result.output
    assert len(slack.top_level()) == 1 and len(slack.messages) == 2
    assert box.raw == []
