"""Polite HTTP GETs: conditional headers, size cap, timeouts, redirects followed by hand.

Redirects are followed here rather than by aiohttp so that every hop is checked by the
address guard, a loop is named as such, and a permanent redirect can be remembered.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver

from monitor import __version__
from monitor.fetch.guard import AddressPolicy, BlockedAddress, GuardedResolver

USER_AGENT = f"monitor/{__version__} (news monitoring; +https://github.com/monitor-news/monitor)"
ACCEPT_FEED = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}


@dataclass(frozen=True, slots=True)
class Limits:
    connect_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = USER_AGENT


class FetchError(Exception):
    """The fetch failed; the message says why in words an operator understands."""

    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(slots=True)
class Response:
    url: str  # after redirects
    status: int
    body: bytes
    headers: dict[str, str]  # names in lower case
    permanent_url: str | None = None  # where a chain of permanent redirects led

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def make_session(
    limits: Limits,
    concurrency: int = 32,
    per_host: int = 2,
    policy: AddressPolicy | None = None,
    resolver: AbstractResolver | None = None,
) -> aiohttp.ClientSession:
    """A session whose connector enforces the global and per-host limits (and the guard)."""
    if policy is not None:
        resolver = GuardedResolver(policy, resolver)
    connector = aiohttp.TCPConnector(
        limit=concurrency, limit_per_host=per_host, resolver=resolver, ttl_dns_cache=60
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if (response.content_length or 0) > max_bytes:
        raise FetchError(f"response larger than {max_bytes} bytes", response.status)
    body = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        body.extend(chunk)
        if len(body) > max_bytes:
            raise FetchError(f"response larger than {max_bytes} bytes", response.status)
    return bytes(body)


def _error_for(response: aiohttp.ClientResponse) -> FetchError:
    status = response.status
    retry = retry_after_seconds(response.headers.get("Retry-After"))
    reason = f"HTTP {status} {response.reason or ''}".strip()
    if retry is not None and status in (429, 503):
        reason += f", retry after {retry:.0f} s"
    return FetchError(reason, status, retry if status in (429, 503) else None)


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: Limits | None = None,
    headers: dict[str, str] | None = None,
    policy: AddressPolicy | None = None,
) -> Response:
    """GET ``url``; a 304 comes back as a Response, any other failure as FetchError."""
    limits = limits or Limits()
    sent = {"User-Agent": limits.user_agent, "Accept-Encoding": "gzip, deflate, br"}
    sent.update(headers or {})
    if etag:
        sent["If-None-Match"] = etag
    if last_modified:
        sent["If-Modified-Since"] = last_modified
    timeout = aiohttp.ClientTimeout(total=limits.total_timeout, sock_connect=limits.connect_timeout)
    visited: list[str] = []
    permanent: str | None = None
    only_permanent = True  # a temporary hop anywhere in the chain makes nothing permanent
    current = url
    try:
        while True:
            if policy is not None:
                policy.check_url(current)
            visited.append(current)
            async with session.get(
                current, headers=sent, allow_redirects=False, timeout=timeout
            ) as response:
                if response.status in _REDIRECTS and "Location" in response.headers:
                    target = urljoin(current, response.headers["Location"])
                    if target in visited:
                        raise FetchError(f"redirect loop at {target}", response.status)
                    if len(visited) > limits.max_redirects:
                        raise FetchError(f"more than {limits.max_redirects} redirects")
                    only_permanent = only_permanent and response.status in _PERMANENT
                    permanent = target if only_permanent else None
                    current = target
                    continue
                if response.status >= 400:
                    raise _error_for(response)
                body = (
                    b""
                    if response.status == 304
                    else await _read_capped(response, limits.max_bytes)
                )
                headers = {k.lower(): v for k, v in response.headers.items()}
                return Response(current, response.status, body, headers, permanent)
    except BlockedAddress as exc:
        raise FetchError(f"blocked: {exc}") from exc
    except TimeoutError as exc:
        raise FetchError("timed out") from exc
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, BlockedAddress):
            raise FetchError(f"blocked: {exc.os_error}") from exc
        raise FetchError(f"cannot connect: {exc.os_error or exc}") from exc
    except aiohttp.ClientError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc
