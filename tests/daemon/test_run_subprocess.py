"""`monitor run` as a real process: alerts appear; SIGKILL at the worst moments loses nothing
and duplicates nothing; SIGTERM stops it cleanly.

The crash window between storing items and storing the new ETag is hit exactly with the
documented test-only pause point (MONITOR_TEST_PAUSE=after-items, see monitor/daemon/poller.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from daemon_support import Entry, FeedServer

REPO = Path(__file__).resolve().parents[2]
COUP = Entry("b", "Coup plot in Baku", "Moscow warned of a coup planned by Ramiz Mehdiyev.")
HOUSE = Entry("c", "Russian House closed", "Rossotrudnichestvo's Russian House in Baku shut.")


class Run:
    def __init__(self, tmp: Path, feed_url: str, watchlists: Path) -> None:
        self.tmp, self.db = tmp, tmp / "m.db"
        self.jsonl = tmp / "alerts.jsonl"
        (tmp / "sources.yaml").write_text(f"sources:\n  - url: {feed_url}\n    interval: 1\n")
        (tmp / "config.yaml").write_text(
            "story: {model: none}\n"
            "daemon: {tick: 0.2, interval: 1, min_interval: 1, max_interval: 1,"
            " allow_addresses: ['127.0.0.1/32'], lease: 3, total_timeout: 2}\n"
        )
        self.args = [
            sys.executable, "-m", "monitor", "run", "-c", str(tmp / "config.yaml"),
            "--database-url", f"sqlite:///{self.db}", "-w", str(watchlists),
            "--sources", str(tmp / "sources.yaml"), "--alerts-jsonl", str(self.jsonl), "-q",
        ]  # fmt: skip

    async def start(self, pause: str | None = None) -> asyncio.subprocess.Process:
        env = dict(os.environ, MONITOR_TEST_PAUSE_FILE=str(self.tmp / "paused"))
        env.pop("MONITOR_TEST_PAUSE", None)
        if pause:
            env["MONITOR_TEST_PAUSE"] = pause
        return await asyncio.create_subprocess_exec(
            *self.args, cwd=self.tmp, env=env, stderr=open(self.tmp / "log.txt", "a")
        )

    def query(self, sql: str) -> list[tuple[object, ...]]:
        if not self.db.exists():
            return []
        with sqlite3.connect(self.db, timeout=10) as connection:
            try:
                return connection.execute(sql).fetchall()
            except sqlite3.OperationalError:  # schema not created yet
                return []

    def alerts(self) -> list[dict[str, object]]:
        if not self.jsonl.exists():
            return []
        return [json.loads(line) for line in self.jsonl.read_text().splitlines()]

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        for _ in range(600):  # a deadline against hanging, not a timing assertion
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"never happened: {what}\n{(self.tmp / 'log.txt').read_text()}")


async def test_run_alerts_survives_sigkill_and_stops_on_sigterm(
    feed_server: FeedServer, tmp_path: Path, watchlists_dir: Path
) -> None:
    old = Entry("a", "Harbour reopens", "The harbour reopened after repairs.")
    feed_server.feed("/feed", [old], etag='"1"')
    run = Run(tmp_path, feed_server.url("/feed"), watchlists_dir)
    items = lambda: run.query("select external_id from item order by external_id")  # noqa: E731
    process = await run.start()
    await run.until(lambda: items() == [("a",)], "first poll stored")
    assert run.alerts() == []  # the first poll of a new source is recorded, not alerted
    feed_server.feed("/feed", [old, COUP], etag='"2"')
    await run.until(lambda: any("Coup plot" in json.dumps(a) for a in run.alerts()), "alert")
    # Killed while polling every second, once delivery is done: a kill inside delivery (the
    # channel accepted, the row not yet marked sent) resends, which is the channel's business.
    await run.until(lambda: not run.query("select id from alert where state='pending'"), "sent")
    process.kill()
    await process.wait()

    # SIGKILL between storing the items and storing the new ETag
    feed_server.feed("/feed", [old, COUP, HOUSE], etag='"3"')
    process = await run.start(pause="after-items")
    await run.until(lambda: (tmp_path / "paused").exists(), "pause point reached")
    process.kill()
    await process.wait()
    assert ("c",) in items() and run.query("select etag from source") == [('"2"',)]

    process = await run.start()  # the old ETag gets a 200: same entries, recognised
    await run.until(lambda: any("Russian House" in json.dumps(a) for a in run.alerts()), "alert c")
    await run.until(lambda: run.query("select etag from source") == [('"3"',)], "etag stored")
    hits = len(feed_server.hits("/feed"))
    await run.until(lambda: len(feed_server.hits("/feed")) > hits + 1, "more polls")
    assert feed_server.hits("/feed")[-1].get("If-None-Match") == '"3"'
    process.send_signal(signal.SIGTERM)
    assert await process.wait() == 0

    assert items() == [("a",), ("b",), ("c",)]
    story_alerts = [a for a in run.alerts() if not a.get("operator")]
    ids = [a["alert_id"] for a in story_alerts]
    assert len(ids) == len(set(ids)), story_alerts
    routes = run.query("select story_id, watchlist, rule, channel from alert")
    assert len(routes) == len(set(routes))
    sent = run.query("select count(*) from alert where state = 'sent'")[0][0]
    assert sent == len(story_alerts)
    assert run.query("select lease_owner from source") == [(None,)]  # released on SIGTERM
