"""Polling benchmark: N local feeds, one full round, then rounds where most are unchanged.

    .venv/bin/python bench/polling.py 100 1000

Prints polls/s of the steady rounds, the share of unchanged polls answered by a 304 (never
parsed), the daemon's CPU seconds per poll (the feed server runs in another process) and its
peak memory. Story detection runs without the embedding model: this measures polling.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from rich.console import Console

from monitor.alert.channels.console import ConsoleChannel
from monitor.config import DaemonSettings, Settings, StorySettings
from monitor.daemon.service import Daemon
from monitor.pipeline import Pipeline
from monitor.sources.config import SourceConfig
from monitor.store.database import open_database

ROUNDS, CHANGED_EVERY = 5, 10  # feed i changes in round r when (i + r) % 10 == 0


def feed(i: int, version: int) -> bytes:
    items = "".join(
        f"<item><guid>{i}-{v}</guid><title>Feed {i} report {v}</title>"
        f"<link>http://127.0.0.1/{i}/{v}</link>"
        f"<description>Report {v} of feed {i}.</description></item>"
        for v in range(version + 1)
    )
    return f"<rss version='2.0'><channel><title>Feed {i}</title>{items}</channel></rss>".encode()


def serve(port: int, versions: dict[int, int]) -> None:
    async def handler(request: web.Request) -> web.Response:
        i = int(request.match_info["i"])
        version = versions.get(i, 0)
        etag = f'"{version}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=feed(i, version), headers={"ETag": etag}, content_type="application/rss+xml"
        )

    app = web.Application()
    app.router.add_get("/feed/{i}", handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


async def bench(n: int, port: int, versions: dict[int, int], folder: Path) -> None:
    engine = open_database(f"sqlite:///{folder / f'bench{n}.db'}")
    now = [datetime(2026, 3, 2, tzinfo=UTC)]
    settings = Settings(
        database_url=str(engine.url),
        story=StorySettings(model="none"),
        daemon=DaemonSettings(
            interval=60,
            min_interval=60,
            max_interval=60,
            concurrency=64,
            per_host=64,
            fulltext=False,
        ),
    )
    pipeline = Pipeline(engine, settings.story, [], None, True)
    daemon = Daemon(
        settings, engine, pipeline, ConsoleChannel(Console(quiet=True)), clock=lambda: now[0]
    )
    async with daemon:
        daemon.use_sources(
            [SourceConfig(url=f"http://127.0.0.1:{port}/feed/{i}") for i in range(n)]
        )
        await daemon.poll_due()  # first round: every feed is new
        polls = unchanged = changed = 0
        cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for r in range(1, ROUNDS + 1):
            for i in range(n):
                if (i + r) % CHANGED_EVERY == 0:
                    versions[i] = versions.get(i, 0) + 1
                    changed += 1
            now[0] += timedelta(minutes=5)
            polls += len(await daemon.poll_due())
        wall = time.perf_counter() - wall0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        unchanged = polls - changed
        not_modified = daemon.metrics.polls.labels("not_modified")._value.get()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"N={n}: {polls} polls in {wall:.2f} s = {polls / wall:.0f} polls/s; "
        f"unchanged answered 304 unparsed: {not_modified:.0f}/{unchanged}"
        f" = {not_modified / unchanged:.0%}; "
        f"CPU {cpu / polls * 1000:.2f} ms/poll; peak memory {peak:.0f} MiB"
    )


def main() -> None:
    for n in [int(a) for a in sys.argv[1:]] or [100, 1000]:
        manager = multiprocessing.Manager()
        versions = manager.dict()
        port = 18000 + n % 1000
        server = multiprocessing.Process(target=serve, args=(port, versions), daemon=True)
        server.start()
        time.sleep(1.0)
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(bench(n, port, versions, Path(folder)))  # type: ignore[arg-type]
        server.terminate()
        manager.shutdown()


if __name__ == "__main__":
    main()
