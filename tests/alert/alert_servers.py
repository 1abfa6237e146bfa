"""Real servers on 127.0.0.1 for delivery tests: one that answers like Slack's Web API, and
an SMTP server (aiosmtpd). Both record exactly what they received and fail on request."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.store.models import Alert, Item, Match, Source, Story

TOKEN = "xoxb-test-token"
CHANNEL = "C0ALERTS"


@dataclass
class FakeSlack:
    """chat.postMessage, conversations.history and conversations.replies, kept in memory.

    ``faults`` are consumed one per chat.postMessage: ``429:N`` (rate limited, Retry-After N),
    ``500`` (refused), ``lost`` (stored, but the reply is an HTTP 500), ``error:CODE``.
    """

    url: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    faults: deque[str] = field(default_factory=deque)
    calls: int = 0
    on_post: Callable[[int], None] | None = None

    def top_level(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if "thread_ts" not in m]

    def replies(self, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("thread_ts") == ts]

    def key(self, message: dict[str, Any]) -> str:
        return str(message["metadata"]["event_payload"]["key"])

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        method = request.match_info["method"]
        if request.method == "POST" and request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(request.query) | dict(await request.post())
        if args.get("channel") != CHANNEL:
            return web.json_response({"ok": False, "error": "channel_not_found"})
        if method == "chat.postMessage":
            return self.post(args)
        if method in ("conversations.history", "conversations.replies"):
            return self.history(method, args)
        return web.json_response({"ok": False, "error": "unknown_method"}, status=404)

    def post(self, args: dict[str, Any]) -> web.Response:
        self.calls += 1
        fault = self.faults.popleft() if self.faults else None
        if fault and fault.startswith("429:"):
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": fault[4:]},
            )
        if fault == "500":
            return web.Response(status=500, text="internal error")
        if fault and fault.startswith("error:"):
            return web.json_response({"ok": False, "error": fault[6:]})
        ts = f"{int(time.time())}.{len(self.messages):06d}"  # epoch seconds, unique
        stored = {"ts": ts, **{k: v for k, v in args.items() if k != "channel"}}
        if not stored.get("thread_ts"):
            stored.pop("thread_ts", None)
        self.messages.append(stored)
        if self.on_post is not None:
            self.on_post(len(self.messages))
        if fault == "lost":
            return web.Response(status=500, text="upstream timeout")
        return web.json_response({"ok": True, "channel": CHANNEL, "ts": ts, "message": stored})

    def history(self, method: str, args: dict[str, Any]) -> web.Response:
        if method == "conversations.replies":
            found = [m for m in self.messages if m["ts"] == args["ts"]] + self.replies(args["ts"])
        else:
            oldest = float(args.get("oldest") or 0)
            found = [m for m in reversed(self.top_level()) if float(m["ts"]) >= oldest]
        if str(args.get("include_all_metadata")).lower() not in ("1", "true"):
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return web.json_response({"ok": True, "messages": found, "has_more": False})


class Mailbox:
    """An aiosmtpd handler that keeps every accepted message's bytes.

    ``faults`` are consumed one per message: ``451`` (try later), ``550`` (recipient
    rejected), ``lost`` (stored, then the connection dropped before the reply).
    """

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.faults: deque[str] = deque()
        self.lock = threading.Lock()
        self.on_data: Callable[[int], None] | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(r, policy=policy.default) for r in self.raw]  # type: ignore[misc]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@example.org>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
            if fault == "451":
                return "451 4.3.0 Try again later"
            self.raw.append(envelope.original_content)
            count = len(self.raw)
        if self.on_data is not None:
            self.on_data(count)
        if fault == "lost":
            session.transport.close()
            return "421 closing"
        return f"250 2.0.0 Ok: queued as Q{count}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_channels(
    path: Path,
    slack_url: str,
    smtp_port: int,
    recipients: list[str] | None = None,
    timeout: float = 5,
    flood_limit: int = 10,
    **delivery: Any,
) -> Path:
    """A channels.yaml for the two servers (JSON is YAML)."""
    limits = {"timeout": timeout, "flood_limit": flood_limit}
    config = {
        "version": 1,
        "delivery": {"base_seconds": 0.05, "cap_seconds": 0.2, **delivery},
        "channels": {
            "slack": {
                "type": "slack",
                "channel": CHANNEL,
                "token_env": "TEST_SLACK_TOKEN",
                "base_url": slack_url,
                "per_minute": 6000,
                **limits,
            },
            "email": {
                "type": "email",
                "host": "127.0.0.1",
                "port": smtp_port,
                "security": "none",
                "sender": "monitor@alerts.example.org",
                "recipients": recipients or ["desk@example.org"],
                **limits,
            },
        },
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def queue_alerts(
    engine: Engine,
    titles: list[str],
    channels: list[str],
    rule: str = "r",
    url: str | None = None,
    snippet: str = "a snippet",
) -> list[int]:
    """Stories with one report each and an alert per channel, as the pipeline queues them."""
    ids = []
    with Session(engine) as session:
        source = Source(key=f"file:///{len(titles)}-{rule}", kind="file", name="Outlet")
        session.add(source)
        session.flush()
        assert source.id is not None
        for n, title in enumerate(titles):
            story = Story(title=title, item_count=1)
            session.add(story)
            session.flush()
            assert story.id is not None
            item = Item(
                source_id=source.id,
                external_id=f"{rule}-{n}",
                content_hash=f"{rule}-{n}",
                url=url,
                title=title,
                text=title,
                language="en",
                outlet=title if n == 0 else None,
                story_id=story.id,
            )
            session.add(item)
            session.flush()
            assert item.id is not None
            session.add(
                Match(
                    story_id=story.id,
                    item_id=item.id,
                    watchlist="w",
                    rule=rule,
                    kind="keyword",
                    name=title,
                    term=title,
                    method="keyword",
                    score=1.0,
                    span_start=0,
                    span_end=1,
                    snippet=snippet,
                )
            )
            for channel in channels:
                alert = Alert(
                    story_id=story.id,
                    watchlist="w",
                    rule=rule,
                    channel=channel,
                    severity="critical",
                )
                session.add(alert)
                session.flush()
                assert alert.id is not None
                ids.append(alert.id)
        session.commit()
    return ids


def alert_rows(engine: Engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.exec(select(Alert).order_by(col(Alert.id))).all())
