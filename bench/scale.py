"""Throughput, latency and memory of the whole pipeline, against the number of stored items.

For each engine and store size, a fresh database is bulk-loaded by plain INSERTs (not the
pipeline) with 10k, 100k or 1M items at ``--rate`` a day, each with its story, vector,
anchors and anchor counts, and an alert already sent on the stories that name a watched
actor. Then the next ``--stream`` items arrive as feed polls (bench/stream.py has the
synthetic world: Zipf-popular names, wire copies, rewrites, Cyrillic copies, follow-ups of
stored stories; RSS 2.0 documents of 1–30 items with HTML bodies of 1,500–4,000 characters).

Each poll is timed from its bytes in hand: ``parse_feed`` → ``normalize`` of each entry →
``Pipeline.ingest``, which embeds, detects the story, matches the watchlist and commits the
alerts to the outbox. So items/s covers the whole pipeline but the network. Polls overlap as
in the daemon, eight at a time (``IN_FLIGHT``): while one is stored, the next are parsed,
normalized and embedded. An item's latency "fetch to alert" is its poll's time from bytes in
hand to alerts committed, waiting behind the polls in flight included.

Embedding is INCLUDED by default: the real model (use-m3) encodes every report's real text,
at its real cost, but the vectors the pipeline gets are synthetic (centroid of the report's
event + noise), because the model would put all the word-salad texts close together and merge
every story. ``--no-embed`` leaves the model out (synthetic vectors only).

Workers: SQLite runs one; PostgreSQL (a throwaway server from tests/pg_server.py, or
``--pg-url``) runs 1, 2 and 4 worker processes on one database, poll i going to worker
i mod n, all starting together once loaded. A worker's first poll warms it up (the story
window loads from the database): it is stored but not timed, and its time is shown as
"start s". Every (engine, workers, size) runs in fresh processes, so peak memory is per
worker; afterwards the items are counted: each stream item must be stored exactly once.

    python bench/scale.py --quick          # 10k, 100k stored; 500 items; SQLite
    python bench/scale.py                  # 10k, 100k, 1M; 5,000 items; SQLite, PostgreSQL ×1,2,4
    python bench/scale.py --sizes 10000 --stream 300 --engines postgresql --workers 1,2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, insert, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stream import (  # noqa: E402
    EventVectors,
    Poll,
    StoredPast,
    Stream,
    World,
    make_stream,
    sources,
    watchlist,
)

from monitor.config import StorySettings  # noqa: E402
from monitor.normalize.article import normalize_each  # noqa: E402
from monitor.parse.feed import parse_feed  # noqa: E402
from monitor.pipeline import Incoming, Pipeline, Stats  # noqa: E402
from monitor.store.database import open_database  # noqa: E402
from monitor.store.models import Alert, AnchorStat, Item, Source, Story, StoryAnchor  # noqa: E402
from monitor.story.embedding import load_embedder  # noqa: E402
from monitor.watchlist.loader import load_watchlists  # noqa: E402

SEED = 7
TABLES = {
    "story": Story,
    "item": Item,
    "storyanchor": StoryAnchor,
    "alert": Alert,
    "anchorstat": AnchorStat,
}


def bulk_load(engine: Engine, past: StoredPast) -> None:
    """The stored past by plain INSERTs, a few thousand rows a statement."""
    with engine.begin() as connection:
        connection.execute(insert(Source), sources(past.start))
    for rows in past.chunks():
        with engine.begin() as connection:
            for table, values in rows.items():  # in foreign-key order
                if values:
                    connection.execute(insert(TABLES[table]), values)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("source", "story", "item"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "
                         f"FROM {table}")
                )  # fmt: skip
        connection.execute(text("ANALYZE"))


def load(url: str, size: int, folder: Path, count: int, rate: float) -> dict[str, Any]:
    """Bulk-load the store, then write the stream that follows it and the watchlist."""
    world = World(SEED)
    start = datetime.now(UTC) - timedelta(days=count / rate + 1)
    engine = open_database(url)
    past = StoredPast(world, size, start, rate)
    began = time.perf_counter()
    bulk_load(engine, past)
    load_s = time.perf_counter() - began
    engine.dispose()
    world.reseed(SEED + 1)  # the same stream whatever the store's size, but its follow-ups
    stream = make_stream(world, count, start, rate, past.recent)
    stream.save(folder / "stream.pickle")
    (folder / "watchlists").mkdir(exist_ok=True)
    (folder / "watchlists" / "bench.yaml").write_text(watchlist(world))
    return {"load_s": load_s, "stored": past.items, "stream": stream.items}


Compute = Callable[..., Any]
# Polls between bytes in hand and alerts committed at once, as the daemon overlaps them: it
# has up to DaemonSettings.concurrency (32) fetches in flight, each going on to parse (model
# process), prepare (embed thread) and store (ingest thread) as soon as its bytes are in. A
# few in flight are enough to keep both cores busy whatever the polls' sizes; more only
# lengthen the queue, i.e. the latency.
IN_FLIGHT = 8


def process(
    pipeline: Pipeline, compute: Compute, polls: list[Poll]
) -> tuple[list[tuple[float, int]], Stats]:
    """Polls as the daemon takes them (monitor/daemon/poller.py): parsing and normalizing in
    the model's process, triage and embedding on one thread, storing on another, IN_FLIGHT
    polls at a time. Returns each poll's seconds from bytes in hand to alerts committed, and
    its item count."""
    return asyncio.run(_process(pipeline, compute, polls))


async def _process(
    pipeline: Pipeline, compute: Compute, polls: list[Poll]
) -> tuple[list[tuple[float, int]], Stats]:
    timed, total = [], Stats()
    slots = asyncio.Semaphore(IN_FLIGHT)
    loop = asyncio.get_running_loop()
    embed, ingest = ThreadPoolExecutor(1), ThreadPoolExecutor(1)

    async def poll(one: Poll) -> None:
        async with slots:
            began = time.perf_counter()
            feed = await asyncio.to_thread(compute, parse_feed, one.body, one.url)
            articles = await asyncio.to_thread(
                compute, normalize_each, feed.entries, UTC, datetime.now(UTC)
            )
            incoming = [Incoming(one.source_id, a) for a in articles if not isinstance(a, str)]
            prepared = await loop.run_in_executor(embed, pipeline.prepare, incoming)
            total.add(await loop.run_in_executor(ingest, pipeline.store, prepared))
            timed.append((time.perf_counter() - began, one.items))

    try:
        await asyncio.gather(*(poll(one) for one in polls))
    finally:
        embed.shutdown()
        ingest.shutdown()
    return timed, total


def worker(url: str, folder: Path, index: int, workers: int, embed: bool) -> None:
    """Warm up on the first poll of this worker's share, say so, wait for the word, time
    the rest; print one JSON line of results."""
    stream = Stream.share(folder / "stream.pickle", index, workers)
    model = load_embedder("use-m3", own_process=True) if embed else None
    if embed and model is None:
        raise SystemExit("the use-m3 model did not load: see the warning; or use --no-embed")
    embedder = EventVectors(stream, model, seed=SEED + index)
    engine = open_database(url)
    watchlists = load_watchlists(folder / "watchlists")
    pipeline = Pipeline(engine, StorySettings(), watchlists, embedder, deliver=False)
    compute = pipeline.compute  # the model's process, as in the daemon
    first, *rest = stream.polls
    warm_began = time.perf_counter()
    process(pipeline, compute, [first])
    warm_s = time.perf_counter() - warm_began
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    began = time.time()
    polls, total = process(pipeline, compute, rest)
    result = {"began": began, "ended": time.time(), "warm_s": warm_s, "polls": polls}
    result |= {"stats": asdict(total), "misses": embedder.misses}
    result |= {"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    result |= {"model_peak_mb": sum(peak_kib(pid) for pid in children()) / 1024}
    print(json.dumps(result), flush=True)


def children() -> list[int]:
    """This process's children (the model's process), from /proc (Linux)."""
    pids = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids += [int(pid) for pid in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return pids


def peak_kib(pid: int) -> int:
    """A process's peak resident memory (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_workers(url: str, folder: Path, workers: int, embed: bool) -> dict[str, Any]:
    """Start ``workers`` processes, let them all go at once, and sum up their results."""
    command = [sys.executable, __file__, "--worker", url, str(folder)]
    logs = [(folder / f"worker-{i}.log").open("w") for i in range(workers)]
    processes = [
        subprocess.Popen(
            [*command, str(i), str(workers), *["--no-embed"] * (not embed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
        )
        for i, log in enumerate(logs)
    ]  # fmt: skip
    try:
        for i, process in enumerate(processes):
            answer(process, folder / f"worker-{i}.log")  # warmed up, ready
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [answer(p, folder / f"worker-{i}.log") for i, p in enumerate(processes)]
        for process in processes:
            process.wait(60)
    finally:
        for process, log in zip(processes, logs, strict=True):
            if process.poll() is None:  # a worker failed: the others wait for the word
                process.kill()
                process.wait()
            log.close()
    return summary(results)


def answer(process: subprocess.Popen[str], log: Path) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise SystemExit(f"a worker failed (exit {process.returncode}):\n{tail}")
    return json.loads(line)


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [t for r in results for t, _ in r["polls"]]
    counts = [n for r in results for _, n in r["polls"]]
    latencies = np.repeat(seconds, counts) * 1000  # every item waits for its whole poll
    items = sum(counts)
    if not items:
        raise SystemExit("no poll was timed: the stream is too short for this many workers")
    wall = max(r["ended"] for r in results) - min(r["began"] for r in results)
    worker_seconds = sum(r["ended"] - r["began"] for r in results)
    stats = {k: sum(r["stats"][k] for r in results) for k in results[0]["stats"]}
    return {
        "items": items,
        "items_per_s": items / wall,
        "ms_per_item": 1000 * worker_seconds / items,
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
        "start_s": max(r["warm_s"] for r in results),
        "peak_mb": max(r["peak_mb"] for r in results),
        "model_peak_mb": max(r["model_peak_mb"] for r in results),
        "stats": stats,
        "misses": sum(r["misses"] for r in results),
    }


class Databases:
    """A fresh database per run: a SQLite file, or a PostgreSQL database copied from the
    loaded one (CREATE DATABASE … TEMPLATE), so 1, 2 and 4 workers start from the same store."""

    def __init__(self, kind: str, folder: Path, pg_url: str | None) -> None:
        self.kind, self.folder, self.pg_url = kind, folder, pg_url

    def loaded(self, size: int) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / f'scale-{size}.db'}"
        return self._create(f"scale_{size}")

    def for_run(self, loaded: str, workers: int) -> str:
        if self.kind == "sqlite":
            return loaded
        return self._create(f"{database_name(loaded)}_w{workers}", template=database_name(loaded))

    def drop(self, url: str) -> None:
        if self.kind == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')

    def _create(self, database: str, template: str | None = None) -> str:
        self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}"' if template else ""
        self._admin(f'CREATE DATABASE "{database}"{copy}')
        assert self.pg_url is not None
        return f"{self.pg_url.rsplit('/', 1)[0]}/{database}"

    def _admin(self, statement: str) -> None:
        import psycopg

        assert self.pg_url is not None
        with psycopg.connect(self.pg_url.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute(statement)


def database_name(url: str) -> str:
    """The database a PostgreSQL URL names."""
    return url.rsplit("/", 1)[1]


def stored_items(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM item")).scalar_one())
    finally:
        engine.dispose()


def subprocess_json(*arguments: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *arguments], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{arguments[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(databases: Databases, size: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Load one store, then run each worker count on a copy of it; print a row per run."""
    kind = databases.kind
    folder = databases.folder / f"{kind}-{size}"
    folder.mkdir(exist_ok=True)
    loaded = databases.loaded(size)
    load_args = ["--stream", str(args.stream), "--rate", str(args.rate)]
    info = subprocess_json("--load", loaded, str(size), str(folder), *load_args)
    print(f"({kind}: {info['stored']:,} items loaded in {info['load_s']:.0f} s)", file=sys.stderr)
    rows = []
    for workers in args.workers if kind == "postgresql" else [1]:
        url = databases.for_run(loaded, workers)
        row = run_workers(url, folder, workers, not args.no_embed)
        row |= {"engine": kind, "workers": workers, "stored": info["stored"]}
        row |= {"found": stored_items(url), "expected": info["stored"] + info["stream"]}
        print(line(row), flush=True)
        rows.append(row)
        if url != loaded:
            databases.drop(url)
    databases.drop(loaded)
    return rows


INCLUDED = "embedding included: use-m3 encodes every report's text; the vectors used are synthetic"
EXCLUDED = "embedding excluded (--no-embed): synthetic vectors only"
LEGEND = """
items: timed items (each worker's first poll warms it up: stored, not timed; "start s" is its
time). items/s: all workers together. ms/item: a worker's wall time per item. p50, p99:
from a poll's bytes in hand to its alerts committed, per item (eight polls in flight, as the
daemon overlaps them: while one is stored the next are parsed, normalized and embedded,
and the wait counts). peak MB: a worker process; model MB: its model process. stories: new
stories. alerts: new alerts queued in the outbox (updates to stories alerted before are not
counted).
"""
HEADER = (
    f"{'engine':<11}{'workers':>8}{'stored':>11}{'items':>7}{'items/s':>9}{'ms/item':>9}"
    f"{'p50 ms':>9}{'p99 ms':>9}{'start s':>9}{'peak MB':>9}{'model MB':>9}{'stories':>9}"
    f"{'alerts':>8}"
)


def line(r: dict[str, Any]) -> str:
    return (
        f"{r['engine']:<11}{r['workers']:>8}{r['stored']:>11,}{r['items']:>7}"
        f"{r['items_per_s']:>9.1f}{r['ms_per_item']:>9.1f}{r['p50_ms']:>9.0f}{r['p99_ms']:>9.0f}"
        f"{r['start_s']:>9.1f}{r['peak_mb']:>9.0f}{r['model_peak_mb']:>9.0f}{r['stats']['stories']:>9}"
        f"{r['stats']['alerts']:>8}"
    )


def conclusions(rows: list[dict[str, Any]]) -> None:
    """Whether every item was stored once, and how the cost per item grows with the store."""
    print(LEGEND)
    for r in rows:
        run = f"{r['engine']} ×{r['workers']} over {r['stored']:,}"
        if r["found"] != r["expected"]:
            print(f"WRONG: {run}: {r['found']:,} items stored, {r['expected']:,} expected")
        elif r["workers"] > 1:
            print(f"stored once: {run}: {r['found']:,} items = bulk + stream, none twice")
        stats = r["stats"]
        if stats["duplicates"] or stats["errors"] or r["misses"]:
            print(f"note: {run}: {stats['duplicates']} duplicates, {stats['errors']} errors, "
                  f"{r['misses']} texts with no synthetic vector")  # fmt: skip
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["engine"], r["workers"]), []).append(r)
    for (engine, workers), group in groups.items():
        if len(group) > 1:
            small, *_, large = sorted(group, key=lambda r: r["stored"])
            ratio = large["ms_per_item"] / small["ms_per_item"]
            print(f"per-item cost, {engine} ×{workers}: {ratio:.2f}× at {large['stored']:,} stored "
                  f"vs {small['stored']:,} (issue 7: at most 2×)")  # fmt: skip


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k, 500 items, SQLite")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="stored items")
    parser.add_argument("--stream", type=int, default=5000, help="items to time per run")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker processes")
    parser.add_argument("--no-embed", action="store_true", help="leave the model out")
    parser.add_argument("--rate", type=float, default=500, help="stored items a day")
    parser.add_argument("--pg-url", help="a PostgreSQL server to use (default: start one)")
    hidden = argparse.SUPPRESS
    parser.add_argument("--load", nargs=3, metavar=("URL", "SIZE", "FOLDER"), help=hidden)
    parser.add_argument("--worker", nargs=4, metavar=("URL", "FOLDER", "I", "N"), help=hidden)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.stream, args.engines = "10000,100000", 500, "sqlite"
    args.workers = [int(n) for n in args.workers.split(",")]
    return args


def main() -> None:
    args = arguments()
    if args.load:
        url, size, folder = args.load
        print(json.dumps(load(url, int(size), Path(folder), args.stream, args.rate)))
        return
    if args.worker:
        url, folder, index, workers = args.worker
        worker(url, Path(folder), int(index), int(workers), not args.no_embed)
        return
    engines, server = args.engines.split(","), None
    if "postgresql" in engines and not args.pg_url:
        from tests.pg_server import PostgresServer, Unavailable

        try:
            server = PostgresServer.start()
            args.pg_url = server.url()
        except Unavailable as exc:
            print(f"PostgreSQL left out: {exc}")
            engines.remove("postgresql")
    print(EXCLUDED if args.no_embed else INCLUDED)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    print(HEADER, flush=True)
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="monitor-scale-") as tmp:
            for kind in engines:
                databases = Databases(kind, Path(tmp), args.pg_url)
                for size in (int(s) for s in args.sizes.split(",")):
                    rows += measure(databases, size, args)
    finally:
        if server is not None:
            server.stop()
    conclusions(rows)


if __name__ == "__main__":
    main()
