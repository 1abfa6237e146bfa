"""How the pipeline's cost per item grows with the number of stored items.

For each store size, a fresh database is bulk-loaded (plain INSERTs, not the pipeline) with
items spread over time at a steady news rate, each with a story, name anchors and a vector
(a per-story centroid plus noise, unit length). Then the next N items of a synthetic stream
go through ``normalize`` and ``Pipeline.ingest``, and their cost is timed.

The stream is built to look like news: many sources; events told by several outlets, with
near-duplicates (a wire copy lightly edited) and cross-language copies (names written in
Cyrillic, which the anchors fold back to Latin); follow-ups to stories already stored; item
lengths of 1,500–4,000 characters. Vectors: by default each report gets its event's
centroid plus noise, so embedding is EXCLUDED from the timing (the model's own cost is in
/work/shared/NOTES.md: ~80–270 texts/s on 2 cores); ``--embed`` runs the real model instead,
for its cost only: the synthetic text is word salad from one vocabulary, which the model
places close together, so with it nearly every report joins one story.

Every (engine, size) runs in its own process, so peak memory is per run.

    python bench/scale.py --quick                 # 10k and 100k on SQLite, 500 items
    python bench/scale.py --sizes 10000,100000,1000000 --stream 5000 --engines sqlite,postgresql
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, insert, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.config import StorySettings  # noqa: E402
from monitor.normalize.article import normalize  # noqa: E402
from monitor.parse.entry import Entry  # noqa: E402
from monitor.pipeline import Incoming, Pipeline  # noqa: E402
from monitor.store.database import open_database  # noqa: E402
from monitor.store.models import Item, Source, Story, StoryAnchor  # noqa: E402
from monitor.story.anchors import anchors  # noqa: E402
from monitor.story.embedding import DIMENSIONS, embedding_text, load_embedder  # noqa: E402
from monitor.watchlist.loader import load_watchlists  # noqa: E402

RATE_PER_DAY = 500  # stored items a day: 10k spans 20 days (> the 7-day window, twice over)
SOURCES = 2000
NAMES = 5000
ITEMS_PER_STORY = 3
LATIN = "abdefgiklmnoprstuvz"
CYRILLIC = dict(zip(LATIN, "абдефгиклмнопрстувз", strict=True))
WORDS = (
    "the government said on officials reported minister talks border security agreement "
    "economy prices energy gas oil sanctions parliament vote election court ruling protest "
    "police army ceasefire negotiations summit delegation statement spokesman according to "
    "sources familiar with the matter week year month region capital city province"
).split()
FILLER = " ".join(WORDS)
RU_WORDS = "правительство заявил министр переговоры граница безопасность соглашение".split()


def unit(v: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def near(centroid: npt.NDArray[np.float32], rng: np.random.Generator, noise: float = 0.04):  # type: ignore[no-untyped-def]
    """A vector about 0.85 cosine from its centroid: how the model places copies of a report."""
    return unit(centroid + rng.normal(0, noise, DIMENSIONS).astype(np.float32))


class World:
    """Names (Zipf-popular, as real actors are) and their anchors, computed once."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        syllables = [a + b for a in "bdgklmnprstvz" for b in "aeiou"]
        self.names = sorted(
            {
                "".join(self.random.choice(syllables) for _ in range(3)).capitalize()
                + self.random.choice(["ov", "ev", "in", "an", "ski", "ur"])
                for _ in range(NAMES * 2)
            }
        )[:NAMES]
        weights = 1 / np.arange(1, len(self.names) + 1) ** 0.8
        self.weights = weights / weights.sum()
        self._anchors: dict[str, set[str]] = {}

    def pick(self, k: int) -> list[str]:
        idx = self.rng.choice(len(self.names), size=k, replace=False, p=self.weights)
        return [self.names[i] for i in idx]

    def anchors_of(self, names: list[str]) -> set[str]:
        found: set[str] = set()
        for name in names:
            if name not in self._anchors:
                self._anchors[name] = anchors("", f"x {name}")
            found |= self._anchors[name]
        return found

    def text(self, names: list[str], length: int, cyrillic: bool = False) -> str:
        words, out, size = (RU_WORDS if cyrillic else WORDS), [], 0
        while size < length:
            sentence = [self.random.choice(words) for _ in range(self.random.randint(8, 16))]
            for _ in range(2):
                name = self.random.choice(names)
                if cyrillic:
                    name = "".join(CYRILLIC.get(c, c) for c in name.lower()).capitalize()
                sentence.insert(self.random.randint(1, len(sentence)), name)
            line = " ".join(sentence) + ". "
            line = line[0].upper() + line[1:]  # str.capitalize() would lowercase the names
            out.append(line)
            size += len(line)
        return "".join(out)


Event = tuple[list[str], npt.NDArray[np.float32]]  # names, centroid


def bulk_load(engine: Engine, world: World, size: int, start: datetime) -> list[Event]:
    """``size`` items before ``start`` at RATE_PER_DAY, in stories of ~3; plain INSERTs.
    Returns the stories of the last two days, for the stream to follow up on."""
    rng, random_ = world.rng, world.random
    with engine.begin() as connection:
        connection.execute(
            insert(Source),
            [
                {"id": s + 1, "key": f"https://src{s}.test/feed", "kind": "feed", "name": f"s{s}"}
                | {"consecutive_failures": 0, "items_seen": 0, "created_at": start}
                for s in range(SOURCES)
            ],
        )
    stories = size // ITEMS_PER_STORY
    span = timedelta(days=size / RATE_PER_DAY)
    item_id, chunk, recent = 0, 2000, []
    for first in range(0, stories, chunk):
        story_rows, item_rows, anchor_rows = [], [], []
        for story_id in range(first + 1, min(stories, first + chunk) + 1):
            at = start - span * (1 - story_id / stories)
            names = world.pick(4)
            story_anchors = sorted(a for a in world.anchors_of(names) if a.startswith("n:"))
            centroid = unit(rng.normal(0, 1, DIMENSIONS).astype(np.float32))
            if start - at < timedelta(days=2):
                recent.append((names, centroid))
            story_rows.append(
                {"id": story_id, "title": " ".join(names), "first_published": at}
                | {"last_published": at, "first_seen": at, "updated_at": at}
                | {"item_count": ITEMS_PER_STORY}
            )
            anchor_rows += [{"story_id": story_id, "anchor": a, "at": at} for a in story_anchors]
            for _ in range(ITEMS_PER_STORY):
                item_id += 1
                item_rows.append(
                    {
                        "id": item_id,
                        "source_id": random_.randint(1, SOURCES),
                        "external_id": f"bulk-{item_id}",
                        "canonical_url": f"https://news.test/a/{item_id}",
                        "content_hash": f"{random_.getrandbits(128):032x}",
                        "url": f"https://news.test/a/{item_id}",
                        "title": " ".join(names),
                        # short: the store's row count is what this measures, not its bytes
                        "text": f"{' '.join(names)}. {FILLER}",
                        "language": "en",
                        "outlet": None,
                        "published": at,
                        "published_kind": "source",
                        "first_seen": at + timedelta(minutes=10),
                        "story_id": story_id,
                        "embedding": near(centroid, rng).tobytes(),
                        "anchors": " ".join(story_anchors),
                    }
                )
        with engine.begin() as connection:
            connection.execute(insert(Story), story_rows)
            connection.execute(insert(Item), item_rows)
            connection.execute(insert(StoryAnchor), anchor_rows)
    if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        with engine.begin() as connection:
            for table in ("source", "story", "item"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "
                         f"FROM {table}")
                )  # fmt: skip
            connection.execute(text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return recent


class Precomputed:
    """Vectors fixed when the stream is made: the model's cost stays out of the timing."""

    name = "precomputed"

    def __init__(self) -> None:
        self.vectors: dict[str, npt.NDArray[np.float32]] = {}

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return np.stack([self.vectors[t] for t in texts])


def stream(
    world: World, count: int, start: datetime, recent: list[Event], vectors: Precomputed
) -> list[Entry]:
    """``count`` reports after ``start``: events told 1–6 times, copies, translations, and
    one event in six a follow-up to a story stored in the last two days."""
    rng, random_ = world.rng, world.random
    entries: list[Entry] = []
    step = timedelta(days=1) / RATE_PER_DAY
    n = 0
    while len(entries) < count:
        if recent and random_.random() < 1 / 6:
            names, centroid = random_.choice(recent)
        else:
            names = world.pick(random_.randint(3, 6))
            centroid = unit(rng.normal(0, 1, DIMENSIONS).astype(np.float32))
        base = world.text(names, random_.randint(1500, 4000))
        title = " ".join(names[:2]) + " " + " ".join(random_.sample(WORDS, 4))
        for copy in range(random_.choice([1, 1, 1, 2, 2, 3, 4, 6])):
            n += 1
            kind = "original" if copy == 0 else random_.choice(["near", "near", "cyrillic"])
            body = base
            if kind == "near":  # a wire copy, lightly edited by another outlet
                body = base.replace(" said ", " stated ", 1) + world.text(names, 120)
            elif kind == "cyrillic":
                body = world.text(names, len(base), cyrillic=True)
            published = start + step * n + timedelta(minutes=random_.randint(0, 90))
            entry = Entry(
                external_id=f"s-{n}",
                url=f"https://src{random_.randrange(SOURCES)}.test/{n}",
                title=title,
                content=body,
                content_type="text",
                published=published,
                language="ru" if kind == "cyrillic" else "en",
            )
            entries.append(entry)
            vectors.vectors[embedding_text(title, body)] = near(centroid, rng)
    return entries[:count]


def one_run(engine_kind: str, url: str, size: int, count: int, embed: bool) -> dict[str, Any]:
    world = World(seed=7)
    now = datetime.now(UTC)
    start = now - timedelta(days=count / RATE_PER_DAY + 1)
    engine = open_database(url)
    t0 = time.perf_counter()
    recent = bulk_load(engine, world, size, start)
    load_s = time.perf_counter() - t0
    vectors = Precomputed()
    entries = stream(world, count, start, recent, vectors)
    t0 = time.perf_counter()
    incoming = [Incoming(1 + i % SOURCES, normalize(e, UTC, now)) for i, e in enumerate(entries)]
    normalize_s = time.perf_counter() - t0
    embedder = load_embedder("use-m3") if embed else vectors
    pipeline = Pipeline(
        engine, StorySettings(), load_watchlists(REPO / "watchlists"), embedder, deliver=False
    )
    t0 = time.perf_counter()
    stats = pipeline.ingest(incoming)
    ingest_s = time.perf_counter() - t0
    engine.dispose()
    return {
        "engine": engine_kind,
        "stored": size,
        "items": count,
        "load_s": round(load_s, 1),
        "normalize_ms": round(1000 * normalize_s / count, 2),
        "ingest_ms": round(1000 * ingest_s / count, 2),
        "items_per_s": round(count / (normalize_s + ingest_s), 1),
        "new_stories": stats.stories,
        "alerts": stats.alerts,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "embedding": "use-m3" if embed else "excluded",
    }


def database_url(kind: str, workdir: Path, size: int, pg_url: str | None) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'scale-{size}.db'}"
    assert pg_url is not None
    import psycopg

    name = f"scale_{size}_{int(time.time())}"
    with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return pg_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k, 500 items")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--stream", type=int, default=5000, help="items timed per size")
    parser.add_argument("--engines", default="sqlite", help="sqlite,postgresql")
    parser.add_argument("--pg-url", help="a PostgreSQL server URL (default: start one)")
    parser.add_argument("--embed", action="store_true", help="include the real model")
    parser.add_argument("--one", nargs=3, metavar=("ENGINE", "URL", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, url, size = args.one
        print(json.dumps(one_run(kind, url, int(size), args.stream, args.embed)))
        return
    sizes = [10_000, 100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    count = 500 if args.quick else args.stream
    engines = args.engines.split(",")
    server = None
    if "postgresql" in engines and not args.pg_url:
        from tests.pg_server import PostgresServer

        server = PostgresServer.start()
        args.pg_url = server.url()
    print(f"{'engine':<11}{'stored':>9}{'items':>7}{'load s':>8}{'norm ms':>9}"
          f"{'ingest ms':>11}{'items/s':>9}{'stories':>9}{'peak MB':>9}")  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="monitor-scale-") as tmp:
            for kind in engines:
                for size in sizes:
                    url = database_url(kind, Path(tmp), size, args.pg_url)
                    command = [sys.executable, __file__, "--stream", str(count)]
                    command += ["--embed"] * args.embed + ["--one", kind, url, str(size)]
                    done = subprocess.run(command, capture_output=True, text=True, check=True)
                    r = json.loads(done.stdout.strip().splitlines()[-1])
                    print(f"{kind:<11}{size:>9}{count:>7}{r['load_s']:>8}{r['normalize_ms']:>9}"
                          f"{r['ingest_ms']:>11}{r['items_per_s']:>9}{r['new_stories']:>9}"
                          f"{r['peak_rss_mb']:>9}", flush=True)  # fmt: skip
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    finally:
        if server is not None:
            server.stop()
    print(f"embedding: {'use-m3, included' if args.embed else 'precomputed, excluded'}")


if __name__ == "__main__":
    main()
