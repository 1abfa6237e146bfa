"""Email over SMTP (aiosmtplib): a plain-text part and an HTML part, follow-ups threaded.

Every message has a Message-ID made from its key, so a re-send after a crash is the same
message to any mail client, and a follow-up points at its alert with In-Reply-To/References.
All feed text in the HTML part is escaped; links are shown only for http(s) URLs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from typing import Literal

import aiosmtplib

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
from monitor.store.models import utcnow

log = logging.getLogger(__name__)
Security = Literal["starttls", "tls", "none"]


def message_id(key: str, domain: str) -> str:
    return f"<{key}@{domain}>"


def render_text(message: Outgoing) -> str:
    """The plain-text part: readable in any client, and what a filter sees."""
    b = message.briefing
    if message.kind == "test":
        return f"{subject(message)}\n\nIf you can read this, alerts reach here.\n"
    if message.kind == "digest":
        lines = [subject(message), ""]
        lines += [
            f"- {when(s.first_seen)[:10]} {s.title} ({len(s.sources)} reports, story {s.story_id})"
            for s in message.briefings
        ]
        return "\n".join(lines) + "\n"
    lines = ["New report on this story:" if message.kind == "update" else b.title, ""]
    if message.kind != "update":
        lines += [
            f"{b.severity.upper()} · {b.watchlist} / {b.rule} · first seen {when(b.first_seen)}",
            "",
        ]
        lines.append("Sources")
    for s in b.sources:
        lines.append(
            f"- [{s.language or '??'}] {s.outlet} · {when(s.published, s.published_estimated)}"
        )
        lines.append(f"  {s.title}" + (f"\n  {s.url}" if s.url else ""))
    if b.matches:
        lines += ["", "Why it matched"]
        for m in b.matches:
            lines.append(f"- {m.kind} {m.name} as “{m.term}” ({how(m.method, m.score)})")
            lines.append(f"  {m.snippet}")
    if b.related:
        lines += ["", "Earlier related"]
        for r in b.related:
            lines.append(f"- {when(r.published)[:10]} {r.title} ({r.reason})")
            if r.url:
                lines.append(f"  {r.url}")
    return "\n".join(lines) + "\n"


def _a(url: str | None, label: str) -> str:
    target = safe_url(url)
    if target is None:
        return escape(label)
    return f'<a href="{escape(target, quote=True)}">{escape(label)}</a>'


def _sources_html(b: Briefing) -> str:
    rows = [
        f"<li><code>{escape(s.language or '??')}</code> {escape(s.outlet)} · "
        f"{escape(when(s.published, s.published_estimated))}<br>{_a(s.url, s.title)}</li>"
        for s in b.sources
    ]
    return "<ul>" + "".join(rows) + "</ul>"


def render_html(message: Outgoing) -> str:
    """The HTML part; nothing from a feed reaches it unescaped."""
    b = message.briefing
    if message.kind == "test":
        body = f"<p>{escape(render_text(message))}</p>"
    elif message.kind == "digest":
        rows = "".join(
            f"<li>{escape(when(s.first_seen)[:10])} <b>{escape(s.title)}</b> "
            f"({len(s.sources)} reports, story {s.story_id})</li>"
            for s in message.briefings
        )
        body = f"<h2>{escape(subject(message))}</h2><ul>{rows}</ul>"
    elif message.kind == "update":
        body = "<p>New report on this story:</p>" + _sources_html(b)
    else:
        body = (
            f"<h2>{escape(b.title)}</h2><p><b>{escape(b.severity.upper())}</b> · "
            f"{escape(b.watchlist)} / {escape(b.rule)} · "
            f"first seen {escape(when(b.first_seen))}</p>"
            f"<h3>Sources</h3>{_sources_html(b)}"
        )
    if message.kind != "digest" and b.matches:
        items = "".join(
            f"<li>{escape(m.kind)} <b>{escape(m.name)}</b> as “{escape(m.term)}” "
            f"({escape(how(m.method, m.score))})<br><i>{escape(m.snippet)}</i></li>"
            for m in b.matches
        )
        body += f"<h3>Why it matched</h3><ul>{items}</ul>"
    if message.kind == "alert" and b.related:
        items = "".join(
            f"<li>{escape(when(r.published)[:10])} {_a(r.url, r.title)} ({escape(r.reason)})</li>"
            for r in b.related
        )
        body += f"<h3>Earlier related</h3><ul>{items}</ul>"
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>\n'


class EmailChannel:
    def __init__(
        self,
        name: str,
        policy: Policy,
        host: str,
        port: int,
        security: Security,
        sender: str,
        recipients: list[str],
        username: str | None = None,
        password: str | None = None,
        domain: str | None = None,
        timeout: float = 30,
    ) -> None:
        self.name, self.policy = name, policy
        self.host, self.port, self.security = host, port, security
        self.sender, self.recipients = sender, recipients
        self.username, self.password = username, password
        self.domain = domain or sender.rpartition("@")[2] or "monitor.invalid"
        self.timeout = timeout

    def build(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["Subject"] = subject(message)
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Date"] = format_datetime(utcnow())
        email["Message-ID"] = message_id(message.key, self.domain)
        if message.parent_key:
            parent = message_id(message.parent_key, self.domain)
            email["In-Reply-To"] = parent
            email["References"] = parent
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(render_text(message))
        email.add_alternative(render_html(message), subtype="html")
        return email

    async def send(self, message: Outgoing) -> str:
        try:
            refused, response = await aiosmtplib.send(
                self.build(message),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "tls",
                start_tls=self.security == "starttls",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:  # every recipient refused
            codes = [r.code for r in exc.recipients]
            text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            if all(code >= 500 for code in codes):
                raise PermanentError(f"recipients refused: {text}") from None
            raise TransientError(f"recipients refused: {text}") from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentError(f"SMTP authentication failed: {exc.code}") from None
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError) as exc:
            raise TransientError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentError(f"SMTP {exc.code} {exc.message}") from None
            raise TransientError(f"SMTP {exc.code} {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:  # cut off mid-conversation
            raise TransientError(f"SMTP: {type(exc).__name__}: {exc}", maybe_sent=True) from None
        for recipient, reply in refused.items():
            log.warning("%s: %s refused %s: %s", self.name, self.host, recipient, reply)
        return response

    async def find(self, message: Outgoing, since: datetime) -> str | None:
        """SMTP cannot look back: a re-send goes out with the same Message-ID."""
        return None

    async def aclose(self) -> None:
        return None
