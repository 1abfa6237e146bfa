"""Delivery against the Slack-like server and the SMTP server: retries, Retry-After, permanent
errors, lost replies, the flood guard, digests, hostile text, and the operator commands."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from alert_servers import FakeSlack, Mailbox, alert_rows, queue_alerts, write_channels
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from monitor.alert.config import ChannelConfigError, load_delivery
from monitor.alert.delivery import deliver_due
from monitor.cli import app
from monitor.store.models import Alert, utcnow

HOSTILE = (
    "<!channel> <!here> @channel <@U0123> <http://evil.example|Your bank> & *bold* "
    "<script>alert(1)</script><img src=x onerror=alert(2)>"
)


def channels_for(tmp_path: Path, slack: FakeSlack, port: int, **kwargs: object) -> Path:
    return write_channels(tmp_path / "channels.yaml", slack.url, port, **kwargs)  # type: ignore[arg-type]


async def test_hostile_headline_stays_text_on_slack_and_email(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    delivery = load_delivery(channels_for(tmp_path, slack, port))
    queue_alerts(
        engine,
        [HOSTILE],
        ["slack", "email"],
        url="https://news.example/a|<!channel>",
        snippet=HOSTILE,
    )
    await deliver_due(engine, delivery.channels, retry=delivery.retry)

    [posted] = slack.messages
    header, *rest = posted["blocks"]
    assert header["text"] == {"type": "plain_text", "text": HOSTILE}  # Slack never parses it
    mrkdwn = [posted["text"]] + [
        t["text"]
        for block in rest
        for t in ([block["text"]] if "text" in block else block["elements"])
    ]
    for text in mrkdwn:
        for needle in ("<!", "<@", "<http://evil", "<script", "<img"):
            assert needle not in text, (needle, text)
    assert all(t["verbatim"] for b in rest for t in ([b["text"]] if "text" in b else b["elements"]))
    escaped = "&lt;!channel&gt; &lt;!here&gt; @channel &lt;@U0123&gt; &lt;http://evil.example|Your"
    assert escaped in posted["text"]
    # Our link to the report: the hostile URL cannot end it early or add a mention.
    assert "<https://news.example/a%7C&lt;!channel&gt;|&lt;!channel&gt;" in rest[1]["text"]["text"]

    [email] = box.messages
    assert isinstance(email, EmailMessage)
    html = str(email.get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert "<script" not in html and "<img" not in html and "<http" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://news.example/a|&lt;!channel&gt;">' in html
    assert email["Subject"] == f"[CRITICAL w/r] {HOSTILE}"


async def test_javascript_links_are_not_links(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    delivery = load_delivery(channels_for(tmp_path, slack, port))
    queue_alerts(engine, ["Title"], ["slack", "email"], url="javascript:alert(1)")
    await deliver_due(engine, delivery.channels, retry=delivery.retry)
    assert "javascript:" not in json.dumps(slack.messages[0]["blocks"])
    assert "javascript:" not in str(box.messages[0].get_body(("html",)).get_content())  # type: ignore[union-attr]


async def test_rate_limit_honours_retry_after_then_delivers_once(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    _, port = mailbox
    delivery = load_delivery(channels_for(tmp_path, slack, port))
    slack.faults.extend(["429:30"])
    queue_alerts(engine, ["One"], ["slack"])
    before = utcnow()
    stats = await deliver_due(engine, delivery.channels, retry=delivery.retry)
    assert stats.retrying == 1 and slack.messages == []
    [alert] = alert_rows(engine)
    assert alert.state == "pending" and alert.next_attempt_at is not None
    wait = alert.next_attempt_at - before
    assert timedelta(seconds=29) < wait < timedelta(seconds=32)
    # Not due before Retry-After has passed; due after.
    await deliver_due(engine, delivery.channels, retry=delivery.retry)
    assert slack.messages == []
    later = utcnow() + timedelta(seconds=31)
    await deliver_due(engine, delivery.channels, now=later, retry=delivery.retry)
    [alert] = alert_rows(engine)
    assert alert.state == "sent" and alert.provider_id == slack.messages[0]["ts"]
    assert alert.attempts == 2


async def test_lost_reply_is_found_in_history_not_sent_again(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    _, port = mailbox
    delivery = load_delivery(channels_for(tmp_path, slack, port))
    slack.faults.extend(["lost"])
    queue_alerts(engine, ["One"], ["slack"])
    await deliver_due(engine, delivery.channels, retry=delivery.retry)
    [alert] = alert_rows(engine)
    assert alert.state == "sending"  # Slack may hold it: look before sending again
    stats = await deliver_due(
        engine, delivery.channels, now=utcnow() + timedelta(seconds=5), retry=delivery.retry
    )
    assert stats.found == 1 and len(slack.messages) == 1
    [alert] = alert_rows(engine)
    assert alert.state == "sent" and alert.provider_id == slack.messages[0]["ts"]


@pytest.mark.parametrize("error", ["channel_not_found", "invalid_auth"])
async def test_permanent_slack_errors_stop_and_show_as_failed(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int], error: str
) -> None:
    _, port = mailbox
    delivery = load_delivery(channels_for(tmp_path, slack, port))
    slack.faults.extend([f"error:{error}"])
    queue_alerts(engine, ["One"], ["slack"])
    stats = await deliver_due(engine, delivery.channels, retry=delivery.retry)
    assert stats.failed == 1 and slack.calls == 1
    await deliver_due(engine, delivery.channels, now=utcnow() + timedelta(hours=1))
    assert slack.calls == 1
    db = str(engine.url)
    listed = CliRunner().invoke(app, ["alerts", "--failed", "--json", "--database-url", db])
    [row] = json.loads(listed.output)
    assert row["state"] == "failed" and row["last_error"] == f"Slack: {error}"
    assert set(row) >= {"id", "story_id", "watchlist", "rule", "channel", "attempts"}


async def test_rejected_recipient_fails_for_good(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    path = channels_for(tmp_path, slack, port, recipients=["nobody@example.org"])
    delivery = load_delivery(path)
    queue_alerts(engine, ["One"], ["email"])
    stats = await deliver_due(engine, delivery.channels, retry=delivery.retry)
    [alert] = alert_rows(engine)
    assert stats.failed == 1 and alert.state == "failed" and box.raw == []
    assert alert.last_error is not None and "550" in alert.last_error


async def test_smtp_try_later_is_retried_with_the_same_message_id(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    delivery = load_delivery(channels_for(tmp_path, slack, port))
    box.faults.extend(["451"])
    queue_alerts(engine, ["One"], ["email"])
    await deliver_due(engine, delivery.channels, retry=delivery.retry)
    assert box.raw == []
    await deliver_due(engine, delivery.channels, now=utcnow() + timedelta(seconds=5))
    [alert] = alert_rows(engine)
    [email] = box.messages
    assert alert.state == "sent" and alert.provider_id == "2.0.0 Ok: queued as Q1"
    assert email["Message-ID"] == f"<{alert.message_key}@alerts.example.org>"


async def test_flood_guard_sends_n_then_one_summary(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    _, port = mailbox
    delivery = load_delivery(channels_for(tmp_path, slack, port, flood_limit=3))
    queue_alerts(engine, [f"Story {n}" for n in range(12)], ["slack"])
    stats = await deliver_due(engine, delivery.channels, retry=delivery.retry)
    assert stats.sent == 3 and stats.summarized == 9 and len(slack.messages) == 3
    stats = await deliver_due(
        engine, delivery.channels, now=utcnow() + timedelta(minutes=2), retry=delivery.retry
    )
    assert stats.sent == 9 and len(slack.messages) == 4
    summary = slack.messages[3]
    assert summary["text"] == "[w/r] digest: 9 stories"
    assert summary["blocks"][1]["text"]["text"].count("\n") == 8
    assert {a.state for a in alert_rows(engine)} == {"sent"}


async def test_digest_rule_sends_one_message_per_window(
    tmp_path: Path, engine: Engine, slack: FakeSlack, mailbox: tuple[Mailbox, int]
) -> None:
    _, port = mailbox
    delivery = load_delivery(channels_for(tmp_path, slack, port))
    queue_alerts(engine, ["A", "B", "C"], ["slack"])
    window = utcnow() + timedelta(hours=1)
    with engine.begin() as connection:  # what record_alerts does for `digest: hourly`
        connection.execute(update(Alert).values(digest_at=window, next_attempt_at=window))
    await deliver_due(engine, delivery.channels, retry=delivery.retry)
    assert slack.messages == []
    await deliver_due(engine, delivery.channels, now=window + timedelta(seconds=1))
    [digest] = slack.messages
    assert digest["text"] == "[w/r] digest: 3 stories"
    assert len({a.provider_id for a in alert_rows(engine)}) == 1


async def test_send_test_and_config_errors(
    tmp_path: Path, slack: FakeSlack, mailbox: tuple[Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = mailbox
    path = channels_for(tmp_path, slack, port)
    runner = CliRunner()
    for channel in ("slack", "email"):
        result = await asyncio.to_thread(
            runner.invoke, app, ["alerts", "send-test", channel, "--channels", str(path)]
        )
        assert result.exit_code == 0, result.output
    assert slack.messages[0]["text"] == "[monitor/send-test] test message"
    assert box.messages[0]["Subject"] == "[monitor/send-test] test message"

    monkeypatch.delenv("TEST_SLACK_TOKEN")
    with pytest.raises(ChannelConfigError, match="TEST_SLACK_TOKEN is not set"):
        load_delivery(path)
    result = runner.invoke(app, ["alerts", "send-test", "slack", "--channels", str(path)])
    assert result.exit_code == 2 and "xoxb" not in result.output
