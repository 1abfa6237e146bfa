"""Full text of an article page: for feed entries that carry only a summary, and `page` sources.

Every URL here came from feed or page content, so every fetch goes through the address
guard. Pages have their own, smaller limits and concurrency, robots.txt is honoured, and
results (failures too) are cached so a re-poll never fetches the same page twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp
import trafilatura

from monitor.fetch.guard import AddressPolicy
from monitor.fetch.http import FetchError, Limits, fetch

log = logging.getLogger(__name__)
_CACHE_SIZE = 2048


class ArticleFetcher:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        limits: Limits,
        policy: AddressPolicy,
        concurrency: int = 4,
    ) -> None:
        self.session = session
        self.limits = limits
        self.policy = policy
        self.slots = asyncio.Semaphore(concurrency)
        self.cache: OrderedDict[str, str | None] = OrderedDict()
        self.robots: dict[str, RobotFileParser] = {}
        self.fetched = 0

    async def html(self, url: str) -> str | None:
        """The page's HTML, or None when it is refused, blocked or fails (logged)."""
        if not await self._robots_allow(url):
            log.info("robots.txt disallows %s", url)
            return None
        async with self.slots:
            try:
                response = await fetch(self.session, url, limits=self.limits, policy=self.policy)
            except FetchError as exc:
                log.warning("article %s: %s", url, exc)
                return None
        self.fetched += 1
        return response.body.decode(_charset(response.headers), errors="replace")

    async def text(self, url: str) -> str | None:
        """The article text trafilatura extracts from the page, cached."""
        if url in self.cache:
            self.cache.move_to_end(url)
            return self.cache[url]
        html = await self.html(url)
        text = await asyncio.to_thread(_extract, html, url) if html else None
        self.cache[url] = text
        if len(self.cache) > _CACHE_SIZE:
            self.cache.popitem(last=False)
        return text

    async def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        parser = self.robots.get(origin)
        if parser is None:
            parser = RobotFileParser()
            try:
                response = await fetch(
                    self.session, f"{origin}/robots.txt", limits=self.limits, policy=self.policy
                )
                parser.parse(response.body.decode("utf-8", errors="replace").splitlines())
            except FetchError as exc:
                # RFC 9309: a missing robots.txt (4xx) allows all; an unreachable one, nothing.
                unreachable = exc.status is None or exc.status >= 500
                parser.parse(["User-agent: *", "Disallow: /"] if unreachable else [])
            self.robots[origin] = parser
        return parser.can_fetch(self.limits.user_agent, url)


def _charset(headers: dict[str, str]) -> str:
    content_type = headers.get("content-type", "")
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            try:
                "".encode(value.strip("\"'"))
                return value.strip("\"'")
            except LookupError:
                break
    return "utf-8"


def _extract(html: str, url: str) -> str | None:
    return trafilatura.extract(html, url=url, include_comments=False, include_tables=False)
