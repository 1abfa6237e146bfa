"""A generic webhook: the briefing as JSON, POSTed, optionally signed with HMAC-SHA256.

The receiver gets our message key in ``X-Monitor-Key``: a re-send after a crash carries the
same key, so a receiver that remembers keys sees every message once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

import aiohttp

from monitor.alert.channels import Outgoing, PermanentError, Policy, TransientError


def payload(message: Outgoing) -> dict[str, Any]:
    return {
        "key": message.key,
        "kind": message.kind,
        "parent_key": message.parent_key,
        "briefings": [b.to_json() for b in message.briefings],
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + HMAC of ``timestamp.body``: the timestamp stops replays of old bodies."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookChannel:
    def __init__(
        self, name: str, policy: Policy, url: str, secret: str | None = None, timeout: float = 30
    ) -> None:
        self.name, self.policy = name, policy
        self.url, self.secret = url, secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: Outgoing) -> str:
        body = json.dumps(payload(message), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Monitor-Key": message.key}
        if self.secret:
            timestamp = str(int(time.time()))
            headers["X-Monitor-Timestamp"] = timestamp
            headers["X-Monitor-Signature"] = signature(self.secret, timestamp, body)
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.post(self.url, data=body, headers=headers) as response,
            ):
                status, retry_after = response.status, response.headers.get("Retry-After")
                request_id = response.headers.get("X-Request-Id")
        except aiohttp.ClientConnectorError as exc:
            raise TransientError(f"cannot connect to webhook: {exc}") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientError(f"webhook: {type(exc).__name__}: {exc}", maybe_sent=True) from None
        if 200 <= status < 300:
            return request_id or f"http-{status}"
        if status == 429:
            seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise TransientError("webhook: HTTP 429", retry_after=seconds)
        if 400 <= status < 500 and status != 408:
            raise PermanentError(f"webhook: HTTP {status}")
        raise TransientError(f"webhook: HTTP {status}", maybe_sent=status >= 500)

    async def find(self, message: Outgoing, since: datetime) -> str | None:
        """A webhook cannot be asked; the receiver de-duplicates by X-Monitor-Key."""
        return None

    async def aclose(self) -> None:
        return None
