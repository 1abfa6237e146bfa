"""Three `monitor run` workers share one PostgreSQL database and 200 feeds; one is SIGKILLed.

The guarantees of the README's "Running at scale", end to end: the dead worker's sources are
polled again by the others within one interval plus the lease; items, stories and alerts exist
once each, however the polls of one story were spread over the workers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from daemon_support import Entry, FeedServer, rss
from sqlalchemy import Engine, text
from sqlmodel import Session

from monitor.store.status import status_json
from monitor.store.workers import STALE_AFTER

pytestmark = pytest.mark.db("postgresql")

FEEDS, WORKERS = 200, 3
TICK, INTERVAL, LEASE, FETCH_TIMEOUT = 0.2, 4, 3, 2
# Two events, each reported by several feeds under their own ids: one story each.
COUP = "Moscow warned of a coup planned by Ramiz Mehdiyev against the government in Baku."
HOUSE = "Rossotrudnichestvo's Russian House in Baku was closed by the authorities."


def unique_entry(i: int, round_: int) -> Entry:
    """Words no other entry has, so that it forms a story of its own."""
    seed = hashlib.sha256(f"{i}-{round_}".encode()).hexdigest()
    words = [f"w{seed[k : k + 6]}" for k in range(0, 48, 6)]
    return Entry(f"{i}-{round_}", " ".join(words[:3]), " ".join(words) + ".")


def round_two(i: int) -> list[Entry]:
    """New entries: a shared story on some feeds, a watchlist match of their own on others."""
    entries = [unique_entry(i, 2)]
    if i % 10 == 0:
        entries.append(Entry(f"coup-{i}", "Coup plot in Baku", COUP))
    if i % 50 == 7:
        entries.append(Entry(f"house-{i}", "Russian House closed", HOUSE))
    return entries


class Feeds:
    """200 feeds on one server: ETags, so unchanged feeds cost a 304; every request timed."""

    def __init__(self, server: FeedServer) -> None:
        self.server, self.log, self.round = server, [], 1
        for i in range(FEEDS):
            server.routes[self.path(i)] = self.handler(i)

    @staticmethod
    def path(i: int) -> str:
        return f"/feed/{i}"

    def entries(self, i: int) -> list[Entry]:
        first = [unique_entry(i, 1)]
        return first + round_two(i) if self.round == 2 else first

    def handler(self, i: int) -> Callable[[web.Request], Any]:
        async def serve(request: web.Request) -> web.StreamResponse:
            self.log.append((i, time.monotonic(), self.round))
            etag = f'"{self.round}"'
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            body = rss(self.entries(i), title=f"Feed {i}")
            return web.Response(
                body=body, content_type="application/rss+xml", headers={"ETag": etag}
            )

        return serve

    def polled_since(self, since: float) -> set[int]:
        return {i for i, at, _ in self.log if at > since}


class Workers:
    def __init__(self, tmp: Path, db_url: str, feeds: Feeds, watchlists: Path) -> None:
        self.tmp, self.processes = tmp, list[asyncio.subprocess.Process]()
        lines = [f"  - url: {feeds.server.url(Feeds.path(i))}" for i in range(FEEDS)]
        (tmp / "sources.yaml").write_text("sources:\n" + "\n".join(lines) + "\n")
        (tmp / "channels.yaml").write_text(f"version: 1\ndelivery: {{lease_seconds: {LEASE}}}\n")
        (tmp / "config.yaml").write_text(
            f"channels: {tmp / 'channels.yaml'}\n"
            f"daemon: {{tick: {TICK}, interval: {INTERVAL}, min_interval: {INTERVAL},"
            f" max_interval: {INTERVAL}, lease: {LEASE}, total_timeout: {FETCH_TIMEOUT},"
            " per_host: 32, allow_addresses: ['127.0.0.1/32']}\n"
        )
        self.args = [
            "-m", "monitor", "run", "-c", str(tmp / "config.yaml"), "--database-url", db_url,
            "-w", str(watchlists), "--sources", str(tmp / "sources.yaml"), "-q",
        ]  # fmt: skip

    def jsonl(self, n: int) -> Path:
        return self.tmp / f"alerts-{n}.jsonl"

    async def start(self) -> None:
        env = dict(os.environ, MONITOR_STORY__MODEL="none")
        for n in range(WORKERS):
            with (self.tmp / f"log-{n}.txt").open("a") as log:  # the child keeps its own copy
                process = await asyncio.create_subprocess_exec(
                    sys.executable, *self.args, "--alerts-jsonl", str(self.jsonl(n)),
                    cwd=self.tmp, env=env, stderr=log,
                )  # fmt: skip
            self.processes.append(process)

    def delivered(self) -> Counter[str]:
        keys: Counter[str] = Counter()
        for n in range(WORKERS):
            if self.jsonl(n).exists():
                keys.update(json.loads(line)["key"] for line in self.jsonl(n).open())
        return keys

    def logs(self) -> str:
        return "\n".join((self.tmp / f"log-{n}.txt").read_text() for n in range(WORKERS))

    def kill_all(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.kill()


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


async def until(condition: Callable[[], bool], what: str, workers: Workers) -> None:
    deadline = time.monotonic() + 30  # against hanging, not a timing assertion
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}\n{workers.logs()[-5000:]}")
        await asyncio.sleep(0.1)


async def test_three_workers_one_killed(
    feed_server: FeedServer, engine: Engine, db_url: str, tmp_path: Path, watchlists_dir: Path
) -> None:
    feeds = Feeds(feed_server)
    workers = Workers(tmp_path, db_url, feeds, watchlists_dir)
    count = lambda sql: lambda: scalar(engine, sql)  # noqa: E731
    items = count("select count(*) from item")
    try:
        await workers.start()
        await until(lambda: items() == FEEDS, "the first round stored", workers)
        workers_alive = count("select count(*) from worker")
        await until(lambda: workers_alive() == WORKERS, "every worker registered", workers)
        owners = count(
            "select count(*) from source where lease_owner not in (select id from worker)"
        )
        assert owners() == 0  # every lease is held under a registered worker id

        feeds.round = 2
        await until(lambda: any(r == 2 for *_, r in feeds.log), "the second round began", workers)
        victim = workers.processes[0]
        killed_at = time.monotonic()
        victim.kill()
        await victim.wait()
        expected = FEEDS + sum(len(round_two(i)) for i in range(FEEDS))
        await until(lambda: items() == expected, "the second round stored", workers)
        await until(lambda: feeds.polled_since(killed_at) == set(range(FEEDS)), "polls", workers)
        pending = count("select count(*) from alert where state in ('pending', 'sending')")
        await until(lambda: pending() == 0 and scalar(engine, "select count(*) from alert") > 0,
                    "alerts delivered", workers)  # fmt: skip
        for process in workers.processes[1:]:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        workers.kill_all()
        for process in workers.processes:
            await process.wait()

    # every source polled again within one interval plus the lease (a dead worker's lease
    # lapses, then the next claim takes it), give or take one tick and one fetch
    bound = INTERVAL + LEASE + TICK + FETCH_TIMEOUT
    first = {
        i: min(at for j, at, _ in feeds.log if j == i and at > killed_at) for i in range(FEEDS)
    }
    late = {i: round(at - killed_at, 2) for i, at in first.items() if at - killed_at > bound}
    assert not late, late
    assert scalar(engine, "select count(distinct source_id || ':' || external_id) from item") == (
        expected
    )
    for event in ("coup", "house"):  # one event, one story, whoever polled its reports
        stories = f"select count(distinct story_id) from item where external_id like '{event}-%'"
        assert scalar(engine, stories) == 1
    assert scalar(engine, "select count(*) from story") == 2 * FEEDS + 2

    # every alert delivered once: the DB says each was sent, the channels saw each key once.
    # A worker killed after printing but before committing 'sent' leaves its claim to lapse
    # and another worker prints it again: the console channel cannot be asked (at-least-once,
    # docs/alerts.md), so one repeat, the message in flight at the kill, is allowed.
    sent = scalar(engine, "select count(*) from alert where state = 'sent'")
    assert sent == scalar(engine, "select count(*) from alert") > 0
    delivered = workers.delivered()
    alert_keys = {k for k in delivered if k.startswith("alert-")}
    assert len(alert_keys) == sent
    repeats = [k for k, n in delivered.items() if n > 1]
    assert len(repeats) <= 1 and all(delivered[k] == 2 for k in repeats), repeats
    with Session(engine) as session:  # the killed worker stays listed, as dead; the rest retired
        assert [w["pid"] for w in status_json(session, STALE_AFTER)["workers"]] == [victim.pid]
