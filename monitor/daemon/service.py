"""The daemon: an APScheduler tick claims due sources; each claimed source is polled as a task.

Database work runs in threads (``asyncio.to_thread``; the pipeline in one dedicated thread)
so the event loop only waits on the network.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from aiohttp.abc import AbstractResolver
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine
from watchfiles import awatch

from monitor.alert.channels.console import ConsoleChannel
from monitor.alert.config import DeliveryConfig
from monitor.config import Settings
from monitor.daemon.claims import Claim, claim_due, release_all, sync_sources
from monitor.daemon.delivery import deliver_alerts
from monitor.daemon.health import Outcome
from monitor.daemon.metrics import Metrics
from monitor.daemon.poller import Poller
from monitor.fetch.article import ArticleFetcher
from monitor.fetch.guard import AddressPolicy
from monitor.fetch.http import USER_AGENT, Limits, make_session
from monitor.normalize.dates import zone
from monitor.pipeline import Pipeline
from monitor.sources.config import SourceConfig, SourcesError, load_sources
from monitor.store.models import utcnow
from monitor.store.workers import heartbeat, new_worker_id, retire
from monitor.watchlist.live import LiveWatchlists
from monitor.watchlist.schema import Watchlist

log = logging.getLogger(__name__)


class Daemon:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        pipeline: Pipeline,
        console: ConsoleChannel,
        clock: Callable[[], datetime] = utcnow,
        article_resolver: AbstractResolver | None = None,
        delivery: DeliveryConfig | None = None,
    ) -> None:
        self.settings, self.d = settings, settings.daemon
        self.engine, self.pipeline, self.console, self.clock = engine, pipeline, console, clock
        self.delivery = delivery or DeliveryConfig({"console": console})
        # the version the pipeline starts with; a broken edit later keeps it in force
        self.watchlists = LiveWatchlists(settings.watchlists)
        self.watchlists.reload()
        self.watchlists.on_change = self._install_watchlists
        # the worker id: its heartbeat row and the owner of its source leases
        self.owner = new_worker_id()
        self.configs: dict[str, SourceConfig] = {}
        self.tasks: set[asyncio.Task[Outcome | None]] = set()
        self.metrics = Metrics()
        self.delivery_lock = asyncio.Lock()
        self.article_resolver = article_resolver

    async def __aenter__(self) -> Daemon:
        d = self.d
        limits = Limits(
            d.connect_timeout,
            d.total_timeout,
            d.max_bytes,
            d.max_redirects,
            d.user_agent or USER_AGENT,
        )
        page_limits = Limits(
            d.connect_timeout,
            d.total_timeout,
            d.fulltext_max_bytes,
            d.max_redirects,
            limits.user_agent,
        )
        await asyncio.to_thread(heartbeat, self.engine, self.owner)  # registers the worker
        policy = AddressPolicy(d.allow_addresses)
        self.feeds = make_session(limits, d.concurrency, d.per_host)
        self.pages = make_session(
            page_limits, d.fulltext_concurrency, d.per_host, policy, self.article_resolver
        )
        self.embed_thread = ThreadPoolExecutor(1, thread_name_prefix="embed")
        self.ingest_thread = ThreadPoolExecutor(1, thread_name_prefix="ingest")
        self.poller = Poller(
            self.engine,
            self.pipeline,
            d,
            self.feeds,
            ArticleFetcher(self.pages, page_limits, policy, d.fulltext_concurrency),
            limits,
            self.metrics,
            zone(self.settings.timezone),
            self.embed_thread,
            self.ingest_thread,
            random.Random(),
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._drain(grace=self.d.total_timeout)
        await asyncio.to_thread(self.embed_thread.shutdown, True)
        await asyncio.to_thread(self.ingest_thread.shutdown, True)  # let a running report commit
        await asyncio.to_thread(release_all, self.engine, self.owner)
        await asyncio.to_thread(retire, self.engine, self.owner)
        await self.feeds.close()
        await self.pages.close()
        for channel in self.delivery.channels.values():
            await channel.aclose()

    def use_sources(self, configs: list[SourceConfig]) -> None:
        """Adopt a (re)loaded source list: state rows created, removed sources disabled."""
        sync_sources(self.engine, configs)
        self.configs = {c.url: c for c in configs}

    async def poll_due(self) -> list[Outcome]:
        """Claim every due source and poll them all; returns when all are done (tests, bench)."""
        results: list[Outcome | None] = []
        while claims := await self._claim():  # at most `concurrency` at a time
            results.extend(await asyncio.gather(*(self._poll(c) for c in claims)))
        await self.deliver()
        return [r for r in results if r is not None]

    async def tick(self) -> None:
        """The scheduler's job: start a task per newly due source, never waiting on one.

        It also sends what is still pending (a crash before delivery, a transient failure),
        and beats the worker's heartbeat for ``monitor status``.
        """
        await asyncio.to_thread(heartbeat, self.engine, self.owner)
        for claim in await self._claim():
            task = asyncio.create_task(self._poll(claim))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await self.deliver()

    async def deliver(self) -> None:
        async with self.delivery_lock:
            await deliver_alerts(self.engine, self.delivery, self.console)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; then finish or cancel what is in flight."""
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.d.tick,
            next_run_time=datetime.now(),
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        server = None
        if self.d.metrics_port is not None:
            server, _ = self.metrics.serve(self.d.metrics_port, self.d.metrics_host)
        watcher = asyncio.create_task(self._watch(stop))
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            await watcher
            if server is not None:
                server.shutdown()

    async def _claim(self) -> list[Claim]:
        free = self.d.concurrency - len(self.tasks)
        lease = timedelta(seconds=self.d.lease)
        return await asyncio.to_thread(
            claim_due, self.engine, self.owner, self.clock(), lease, free
        )

    async def _poll(self, claim: Claim) -> Outcome | None:
        config = self.configs.get(claim.key)
        if config is None:  # removed from the files since the last sync
            return None
        self.metrics.in_flight.inc()
        try:
            outcome = await self.poller.poll(claim, config, self.clock())
        except Exception:  # a bug must cost one poll, never the daemon
            log.exception("poll %s crashed", claim.url)
            return None
        finally:
            self.metrics.in_flight.dec()
        if outcome.new_items or outcome.error:
            await self.deliver()
        return outcome

    async def _drain(self, grace: float) -> None:
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _watch(self, stop: asyncio.Event) -> None:
        """Reload sources and watchlists when their files change; a bad edit keeps the old."""
        paths = [p for p in (self.d.sources, self.settings.watchlists) if p.exists()]
        if not paths:
            return
        async for changes in awatch(*paths, stop_event=stop, debounce=500):
            changed = [Path(path) for _, path in changes]
            if any(_under(p, self.d.sources) for p in changed):
                await self.reload_sources()
            if any(_under(p, self.settings.watchlists) for p in changed):
                await self.reload_watchlists()

    async def reload_sources(self) -> None:
        try:
            configs = await asyncio.to_thread(load_sources, self.d.sources)
        except SourcesError as exc:
            log.error("sources not reloaded, the previous version stays in force:\n%s", exc)
            return
        await asyncio.to_thread(self.use_sources, configs)
        log.warning("sources reloaded: %d sources", len(configs))

    async def reload_watchlists(self) -> None:
        """Install the edited watchlists; a broken edit keeps the last good version in force."""
        await asyncio.to_thread(self.watchlists.reload)

    def _install_watchlists(self, watchlists: list[Watchlist]) -> None:
        # swapped on the ingest thread, between two reports, never during one
        self.ingest_thread.submit(self.pipeline.set_watchlists, watchlists)


def _under(path: Path, root: Path) -> bool:
    resolved, base = path.resolve(), root.resolve()
    return resolved == base or base in resolved.parents
