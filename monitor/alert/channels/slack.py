"""Slack: chat.postMessage with Block Kit and a plain-text fallback; updates as thread replies.

Feed text is hostile: every piece of it is escaped for mrkdwn (``&``, ``<``, ``>``), so a
headline cannot ping ``<!channel>`` or forge a ``<url|label>`` link; the headline itself goes
in a plain_text header, which Slack never parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from monitor.alert.briefing import Briefing
from monitor.alert.channels import (
    Outgoing,
    PermanentError,
    Policy,
    TransientError,
    how,
    safe_url,
    subject,
    when,
)

EVENT_TYPE = "monitor_alert"
# Errors that no retry will cure; an operator must fix the token, the channel or the app.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_in_channel",
        "is_archived",
        "missing_scope",
        "no_permission",
        "invalid_blocks",
        "invalid_metadata_format",
        "restricted_action",
        "team_access_not_granted",
    }
)
_SECTION_CHARS = 2900  # Slack allows 3000 per section text
_HEADER_CHARS = 150
_HISTORY_PAGES = 5


def escape(text: str) -> str:
    """Slack's own escaping: the only three characters mrkdwn gives meaning to as controls."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """A mrkdwn link to an http(s) URL, else the label alone; ``|`` cannot end the URL early."""
    target = safe_url(url)
    if target is None:
        return escape(label)
    return f"<{escape(target).replace('|', '%7C')}|{escape(label)}>"


def _section(text: str) -> dict[str, Any]:
    if len(text) > _SECTION_CHARS:
        text = text[: _SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    """verbatim: Slack must not turn bare names or URLs in feed text into mentions or links."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def source_lines(b: Briefing) -> list[str]:
    return [
        f"• `{escape(s.language or '??')}` {escape(s.outlet)} · "
        f"{when(s.published, s.published_estimated)} · {link(s.url, s.title)}"
        for s in b.sources
    ]


def match_lines(b: Briefing) -> list[str]:
    return [
        f"• {m.kind} *{escape(m.name)}* as “{escape(m.term)}” ({how(m.method, m.score)})\n"
        f"> {escape(m.snippet)}"
        for m in b.matches
    ]


def blocks(message: Outgoing) -> list[dict[str, Any]]:
    """Block Kit for each kind of message."""
    b = message.briefing
    if message.kind == "digest":
        lines = [
            f"• {when(s.first_seen)[:10]} *{escape(_plain(s.title, 200))}* · "
            f"{len(s.sources)} report(s) · story {s.story_id}"
            for s in message.briefings
        ]
        return [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _plain(subject(message), _HEADER_CHARS)},
            },
            _section("\n".join(lines)),
        ]
    if message.kind == "test":
        return [_section(escape(subject(message)) + "\nIf you can read this, alerts reach here.")]
    if message.kind == "update":
        out = [_section("*New report*\n" + "\n".join(source_lines(b)))]
        if b.matches:
            out.append(_section("*What matched in it*\n" + "\n".join(match_lines(b))))
        return out
    route = f"{escape(b.watchlist)} / {escape(b.rule)}"
    out = [
        {"type": "header", "text": {"type": "plain_text", "text": _plain(b.title, _HEADER_CHARS)}},
        {
            "type": "context",
            "elements": [
                _mrkdwn(
                    f"*{b.severity.upper()}* · {route} · first seen "
                    f"{when(b.first_seen)} · story {b.story_id}"
                )
            ],
        },
        _section("*Sources*\n" + "\n".join(source_lines(b))),
    ]
    if b.matches:
        out.append(_section("*Why it matched*\n" + "\n".join(match_lines(b))))
    if b.related:
        related = [
            f"• {when(r.published)[:10]} {link(r.url, r.title)} ({escape(r.reason)})"
            for r in b.related
        ]
        out.append(_section("*Earlier related*\n" + "\n".join(related)))
    return out


def fallback(message: Outgoing) -> str:
    """The notification and screen-reader text: one escaped line."""
    if message.kind == "update":
        s = message.briefing.sources[0] if message.briefing.sources else None
        new = f"{s.outlet} ({s.language or '??'}): {s.title}" if s else "a new report"
        return escape(_plain(f"New report: {new}", 300))
    return escape(_plain(subject(message), 300))


class SlackChannel:
    """A bot token and one channel (by ID: conversations.history needs the ID, not a name)."""

    def __init__(
        self,
        name: str,
        token: str,
        channel: str,
        policy: Policy,
        base_url: str = "https://slack.com/api/",
        timeout: float = 30,
    ) -> None:
        self.name = name
        self.policy = policy
        self.channel = channel
        # Retries are ours (backoff, Retry-After, history look-up): none inside the client.
        self.client = AsyncWebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,  # type: ignore[arg-type]  # typed int, handed to aiohttp as float
            retry_handlers=[],
        )

    async def send(self, message: Outgoing) -> str:
        response = await self._call(
            self.client.chat_postMessage,
            channel=self.channel,
            text=fallback(message),
            blocks=blocks(message),
            thread_ts=message.parent_id,
            metadata={"event_type": EVENT_TYPE, "event_payload": {"key": message.key}},
            unfurl_links=False,
            unfurl_media=False,
            link_names=False,
            parse="none",
        )
        return str(response["ts"])

    async def find(self, message: Outgoing, since: datetime) -> str | None:
        """Look for the message's key in the channel's history (or its thread, for a reply)."""
        cursor = None
        for _ in range(_HISTORY_PAGES):
            args: dict[str, Any] = {
                "channel": self.channel,
                "include_all_metadata": True,
                "limit": 200,
                "cursor": cursor,
            }
            if message.parent_id:
                response = await self._call(
                    self.client.conversations_replies, ts=message.parent_id, **args
                )
            else:
                response = await self._call(
                    self.client.conversations_history, oldest=f"{since.timestamp():.6f}", **args
                )
            for posted in response.get("messages") or []:
                payload = (posted.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == message.key:
                    return str(posted["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    async def _call(self, method: Any, **kwargs: Any) -> Any:
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            raise _classify(exc) from None
        except aiohttp.ClientConnectorError as exc:  # never reached Slack
            raise TransientError(f"cannot connect to Slack: {exc}") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientError(f"Slack: {type(exc).__name__}: {exc}", maybe_sent=True) from None

    async def aclose(self) -> None:
        if self.client.session is not None:
            await self.client.session.close()


def _classify(exc: SlackApiError) -> Exception:
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or f"HTTP {response.status_code}")
    if response.status_code == 429 or error == "ratelimited":
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        try:
            seconds = float(retry_after) if retry_after is not None else None
        except ValueError:
            seconds = None
        return TransientError(f"Slack rate limit: {error}", retry_after=seconds)
    if error in PERMANENT:
        return PermanentError(f"Slack: {error}")
    return TransientError(f"Slack: {error}", maybe_sent=response.status_code >= 500)
