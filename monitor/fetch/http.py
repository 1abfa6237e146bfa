"""One polite HTTP GET: size cap, timeouts, conditional headers, a descriptive User-Agent."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from monitor import __version__

USER_AGENT = f"monitor/{__version__} (news monitoring; +https://github.com/monitor-news/monitor)"
MAX_BYTES = 10 * 1024 * 1024
CONNECT_TIMEOUT = 10.0
TOTAL_TIMEOUT = 30.0


class FetchError(Exception):
    """The fetch failed; the message says why in words an operator understands."""


@dataclass(slots=True)
class Response:
    url: str  # after redirects
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def not_modified(self) -> bool:
        return self.status == 304


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> Response:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = aiohttp.ClientTimeout(total=TOTAL_TIMEOUT, sock_connect=CONNECT_TIMEOUT)
    try:
        async with session.get(url, headers=headers, timeout=timeout, max_redirects=5) as response:
            if response.status >= 400:
                raise FetchError(f"HTTP {response.status} {response.reason or ''}".strip())
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise FetchError(f"response larger than {max_bytes} bytes")
            return Response(str(response.url), response.status, bytes(body), dict(response.headers))
    except aiohttp.TooManyRedirects as exc:
        raise FetchError("too many redirects") from exc
    except TimeoutError as exc:
        raise FetchError("timed out") from exc
    except aiohttp.ClientError as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from exc
