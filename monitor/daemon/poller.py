"""One poll of one source, top to bottom: the daemon's RefreshFeed.

fetch with cache headers → parse if modified → normalize → pipeline → store source state
(new ETag, health, next poll) → reset error counter.

The new ETag is stored only after every item it covers is committed (each item commits in
its own transaction inside the pipeline). A crash in between leaves the old ETag: the next
poll gets a 200 with the same entries, which the pipeline recognises as duplicates. So no
item is lost and none duplicated, without coupling the pipeline to source state.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, tzinfo

import aiohttp
from sqlalchemy import Engine
from sqlmodel import Session

from monitor.config import DaemonSettings
from monitor.daemon.claims import Claim
from monitor.daemon.health import Outcome, record_poll
from monitor.daemon.metrics import Metrics, reason_class
from monitor.fetch.article import ArticleFetcher
from monitor.fetch.http import ACCEPT_FEED, FetchError, Limits, Response, fetch
from monitor.normalize.article import normalize_each
from monitor.normalize.text import html_title
from monitor.parse.corpus import parse_any_feed
from monitor.parse.entry import Entry, ParseError
from monitor.parse.feed import Feed
from monitor.pipeline import Incoming, Pipeline, Stats, existing_items
from monitor.sources.config import SourceConfig
from monitor.sources.discovery import article_links, feed_links
from monitor.store.models import Item

log = logging.getLogger(__name__)


def pause_point(name: str) -> None:
    """Test-only crash window: with MONITOR_TEST_PAUSE=<name>, touch MONITOR_TEST_PAUSE_FILE
    and freeze the whole process here (the event loop too), so a test can SIGKILL the daemon
    at exactly this point. Without the variable it costs one dictionary lookup."""
    if os.environ.get("MONITOR_TEST_PAUSE") == name:
        with open(os.environ["MONITOR_TEST_PAUSE_FILE"], "a") as marker:
            marker.write(f"{name}\n")
        time.sleep(3600)


@dataclasses.dataclass
class Poller:
    engine: Engine
    pipeline: Pipeline
    settings: DaemonSettings
    feeds: aiohttp.ClientSession
    articles: ArticleFetcher
    limits: Limits
    metrics: Metrics
    tz: tzinfo
    embed_thread: ThreadPoolExecutor  # the model, for one poll while another is stored
    ingest_thread: ThreadPoolExecutor  # one thread: stories are decided one report at a time
    rng: random.Random

    async def poll(self, claim: Claim, config: SourceConfig, now: datetime) -> Outcome:
        started = time.perf_counter()
        try:
            response = await fetch(
                self.feeds,
                claim.url,
                claim.etag,
                claim.last_modified,
                self.limits,
                {"Accept": ACCEPT_FEED, **config.headers},
            )
            self.metrics.latency.observe(time.perf_counter() - started)
            outcome = Outcome(
                not_modified=response.not_modified,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                permanent_url=response.permanent_url,
            )
            if not response.not_modified:
                feed = await self._read(response, config)
                incoming, outcome.warnings = await self._prepare(claim, config, feed, now)
                loop = asyncio.get_running_loop()
                prepared = await loop.run_in_executor(
                    self.embed_thread, self.pipeline.prepare, incoming
                )
                stats = await loop.run_in_executor(
                    self.ingest_thread, self.pipeline.store, prepared
                )
                outcome.new_items = stats.new
                self._count(stats)
                pause_point("after-items")
        except (FetchError, ParseError) as exc:
            outcome = Outcome(error=str(exc), retry_after=getattr(exc, "retry_after", None))
        notices = await asyncio.to_thread(
            record_poll,
            self.engine,
            claim,
            outcome,
            config.interval or self.settings.interval,
            self.settings,
            now,
            self.rng,
        )
        self._log(claim, outcome, time.perf_counter() - started, notices)
        return outcome

    async def _read(self, response: Response, config: SourceConfig) -> Feed:
        """The response as a feed (or, for a `page` source, its linked articles)."""
        if not response.body.strip():
            raise ParseError("empty response body")
        if config.kind == "page":
            return await self._page(response)
        try:
            return await asyncio.to_thread(
                self.pipeline.compute, parse_any_feed, response.body, response.url, response.headers
            )
        except ParseError as exc:
            announced = feed_links(response.body, response.url)
            if announced:
                raise ParseError(f"{exc}; the page announces a feed at {announced[0]}") from exc
            raise

    async def _page(self, response: Response) -> Feed:
        links = article_links(response.body, response.url)
        entries = []
        for url, html in zip(
            links, await asyncio.gather(*(self.articles.html(u) for u in links)), strict=True
        ):
            if html is not None:
                entries.append(Entry(None, url, html_title(html) or None, html, "page"))
        return Feed(title=None, entries=entries)

    async def _prepare(
        self, claim: Claim, config: SourceConfig, feed: Feed, now: datetime
    ) -> tuple[list[Incoming], list[str]]:
        """Normalize entries, apply the flood rules, fetch full text of summary-only ones."""
        warnings = ([feed.warning] if feed.warning else []) + feed.skipped
        entries, duplicates = _unique(feed.entries)
        if duplicates:
            warnings.append(f"{duplicates} entries repeat an id or link; the first one is kept")
        quiet = claim.last_success_at is None or now - claim.last_success_at > timedelta(
            seconds=self.settings.back_after
        )
        horizon = now - timedelta(seconds=self.settings.alert_horizon)
        for entry in entries:
            entry.language = entry.language or config.language
        articles = await asyncio.to_thread(
            self.pipeline.compute, normalize_each, entries, self.tz, now
        )
        incoming = []
        for article in articles:
            if isinstance(article, str):  # the entry's error
                warnings.append(article)
                continue
            old = article.published is not None and article.published < horizon
            incoming.append(Incoming(claim.id, article, alert=not (quiet or old)))
        if self.settings.fulltext and config.kind == "feed":
            incoming = await self._full_text(incoming)
        return incoming, warnings

    async def _full_text(self, incoming: list[Incoming]) -> list[Incoming]:
        """Summary-only entries get their page's text; their identity stays the feed's."""
        short = [
            i
            for i in incoming
            if i.article.url and len(i.article.text) < self.settings.fulltext_min_chars
        ]
        changed = await asyncio.to_thread(_new_or_changed, self.engine, short)
        texts = await asyncio.gather(*(self.articles.text(i.article.url or "") for i in changed))
        for one, text in zip(changed, texts, strict=True):
            if text and len(text) > len(one.article.text):
                one.article = dataclasses.replace(one.article, text=text)
        return incoming

    def _count(self, stats: Stats) -> None:
        self.metrics.items.inc(stats.new)
        self.metrics.stories.inc(stats.stories)
        self.metrics.alerts.inc(stats.alerts)
        self.metrics.corrections.inc(stats.corrections)

    def _log(self, claim: Claim, outcome: Outcome, seconds: float, notices: list[str]) -> None:
        if outcome.error is not None:
            self.metrics.polls.labels("error").inc()
            self.metrics.errors.labels(reason_class(outcome.error)).inc()
            log.warning("poll %s failed after %.2f s: %s", claim.url, seconds, outcome.error)
        else:
            self.metrics.polls.labels("not_modified" if outcome.not_modified else "ok").inc()
            result = "not modified" if outcome.not_modified else f"{outcome.new_items} new"
            log.info("poll %s: %s in %.2f s", claim.url, result, seconds)
            for warning in outcome.warnings:
                log.warning("poll %s: %s", claim.url, warning)
        for notice in notices:
            self.metrics.notices.inc()
            log.warning("operator alert: %s", notice)


def _unique(entries: list[Entry]) -> tuple[list[Entry], int]:
    """Entries with a repeated id (or link, when they have no id) after the first are dropped."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        key = entry.external_id or entry.url
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        kept.append(entry)
    return kept, len(entries) - len(kept)


def _new_or_changed(engine: Engine, incoming: list[Incoming]) -> list[Incoming]:
    """The reports not yet stored, or whose feed version changed: only these need a page."""
    with Session(engine) as session:
        result = []
        for one, item_id in zip(incoming, existing_items(session, incoming), strict=True):
            item = session.get(Item, item_id) if item_id is not None else None
            if item is None or item.content_hash != one.article.content_hash:
                result.append(one)
        return result
