"""Polling throughput on PostgreSQL with 1, 2 and 4 `monitor run` workers against slow feeds.

    .venv/bin/python bench/workers.py --feeds 2000 --latency 0.2 --workers 1,2,4

Each feed answers after ``--latency`` seconds (a slow site), from a server in its own process.
For each worker count: a fresh database, the workers start and poll every feed once (first
polls, timed apart); then every source is made due at once and one more round is timed: a
tenth of the feeds have a new entry (parsed and stored), the rest answer 304. Prints polls/s.
The bound being scaled is the per-worker fetch concurrency (``--concurrency``), which is what a
site with thousands of slow feeds runs into: more workers, more fetches in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from aiohttp import web
from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.store.database import open_database  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402


def serve(port: int, latency: float) -> None:
    """Feed i has entries 0..version when i is a tenth's feed, else entry 0; /bump, /count."""
    state = {"version": 0, "requests": 0}

    async def feed(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        state["requests"] += 1
        i = int(request.match_info["i"])
        version = state["version"] if i % 10 == 0 else 0
        etag = f'"{version}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        items = "".join(
            f"<item><guid isPermaLink='false'>{i}-{v}</guid><title>Feed {i} report {v}</title>"
            f"<description>Report {v} of feed {i}: harbour works, a council vote.</description>"
            "</item>"
            for v in range(version + 1)
        )
        body = f"<rss version='2.0'><channel><title>Feed {i}</title>{items}</channel></rss>"
        return web.Response(text=body, headers={"ETag": etag}, content_type="application/rss+xml")

    async def bump(request: web.Request) -> web.Response:
        state["version"] += 1
        return web.Response(text="ok")

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=str(state["requests"]))

    app = web.Application()
    app.router.add_get("/feed/{i}", feed)
    app.router.add_get("/bump", bump)
    app.router.add_get("/count", count)
    web.run_app(app, host="127.0.0.1", port=port, print=None, backlog=4096)


def requests(base: str) -> int:
    with urllib.request.urlopen(f"{base}/count") as answer:
        return int(answer.read())


def wait_for(condition: Callable[[], bool], what: str, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def one(server: PostgresServer, workers: int, args: argparse.Namespace, base: str) -> float:
    """Polls/s of one timed round with ``workers`` processes on a fresh database."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = server.url().replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = server.url(name)
    engine = open_database(url)  # migrated once, before the workers start
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    lines = [f"  - url: {base}/feed/{i}" for i in range(args.feeds)]
    (folder / "sources.yaml").write_text("sources:\n" + "\n".join(lines) + "\n")
    (folder / "config.yaml").write_text(
        "daemon: {tick: 0.2, interval: 3600, min_interval: 3600, max_interval: 3600,"
        f" lease: 120, concurrency: {args.concurrency}, per_host: {args.concurrency},"
        " allow_addresses: ['127.0.0.1/32']}\n"
    )
    command = [
        sys.executable, "-m", "monitor", "run", "-c", str(folder / "config.yaml"),
        "--database-url", url, "--sources", str(folder / "sources.yaml"), "-q",
        "-w", str(REPO / "watchlists"),
    ]  # fmt: skip
    env = dict(os.environ, MONITOR_STORY__MODEL="none")
    processes = []
    try:
        start = requests(base)
        for n in range(workers):
            with (folder / f"log-{n}.txt").open("w") as log:
                processes.append(subprocess.Popen(command, env=env, stderr=log, cwd=folder))
        wait_for(lambda: requests(base) >= start + args.feeds, "the first round")
        with engine.connect() as connection:  # let the in-flight first polls finish
            wait_for(
                lambda: (
                    connection.execute(
                        text("select count(*) from source where last_polled_at is null")
                    ).scalar()
                    == 0
                ),
                "first polls stored",
            )
        urllib.request.urlopen(f"{base}/bump").close()
        begun, before = time.monotonic(), requests(base)
        with engine.begin() as connection:
            connection.execute(text("update source set next_poll_at = now()"))
        wait_for(lambda: requests(base) >= before + args.feeds, "the timed round")
        return args.feeds / (time.monotonic() - begun)
    finally:
        for process in processes:
            process.send_signal(signal.SIGKILL)
            process.wait()
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per feed response")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=32, help="fetches per worker")
    args = parser.parse_args()
    port = 18000 + os.getpid() % 1000
    feeds = multiprocessing.Process(target=serve, args=(port, args.latency), daemon=True)
    feeds.start()
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _up(base), "the feed server")
    server = PostgresServer.start()
    try:
        print(
            f"{args.feeds} feeds, {args.latency * 1000:.0f} ms each, "
            f"{args.concurrency} fetches in flight per worker, PostgreSQL"
        )
        for workers in (int(w) for w in args.workers.split(",")):
            rate = one(server, workers, args, base)
            print(f"{workers} worker(s): {rate:7.1f} polls/s")
    finally:
        server.stop()
        feeds.terminate()


def _up(base: str) -> bool:
    try:
        requests(base)
    except OSError:
        return False
    return True


if __name__ == "__main__":
    main()
