"""Story detection cost per report with 10k and 100k stored reports inside the window.

Usage: .venv/bin/python bench/story_detection.py [--sizes 10000 100000] [--queries 200]

Stored reports are bulk-loaded with precomputed random unit vectors and anchors (stories of
about four reports sharing rare names; common names and numbers drawn from a Zipf law), into
a real SQLite database (items, anchor index, anchor counts) and the window index. Each timed
call is ``StoryDetector.decide`` for a fresh report inside the same window: candidate
retrieval (HNSW vectors, anchor index) and scoring, embedding excluded; its writes are rolled
back. Embedding throughput is measured separately on the real model.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlmodel import Session

from monitor.config import StorySettings
from monitor.store.database import open_database
from monitor.store.models import AnchorStat, Item, Source, Story, StoryAnchor
from monitor.story.detector import Report, StoryDetector
from monitor.story.embedding import DIMENSIONS, load_embedder
from monitor.story.window import Held

START = datetime(2025, 3, 1, tzinfo=UTC)
WINDOW_DAYS = 30.0
PER_STORY = 4
COMMON_NAMES = 5000


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIMENSIONS)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def report_anchors(rng: np.random.Generator, story: int) -> set[str]:
    own = {f"n:story{story}x{k}" for k in range(3)}
    common = {f"n:common{int(z)}" for z in rng.zipf(1.3, 5) if z < COMMON_NAMES}
    return own | common | {f"d:{rng.integers(10, 3000)}"}


def load(size: int, folder: Path) -> tuple[StoryDetector, Session, np.random.Generator]:
    rng = np.random.default_rng(size)
    engine = open_database(f"sqlite:///{folder / f'bench{size}.db'}")
    detector = StoryDetector(StorySettings(window_days=WINDOW_DAYS))
    vectors = unit(rng, size)
    span = timedelta(days=WINDOW_DAYS / 2).total_seconds()  # all inside one window
    held, counts = [], {"": size}
    with Session(engine) as session:
        session.add(Source(id=1, key="bench", kind="file", name="bench"))
        session.flush()
        stories = size // PER_STORY
        session.bulk_insert_mappings(
            Story, [{"id": s + 1, "title": "t", "item_count": PER_STORY} for s in range(stories)]
        )
        items, postings = [], {}
        for i in range(size):
            story = i // PER_STORY + 1
            at = START + timedelta(seconds=span * i / size)
            found = report_anchors(rng, story)
            for a in found:
                counts[a] = counts.get(a, 0) + 1
                if a.startswith("n:"):
                    postings[(story, a)] = at
            items.append(
                {
                    "id": i + 1,
                    "source_id": 1,
                    "content_hash": f"h{i}",
                    "title": "t",
                    "text": "",
                    "published": at,
                    "published_kind": "source",
                    "first_seen": at,
                    "story_id": story,
                    "anchors": " ".join(sorted(found)),
                }
            )
            held.append(
                Held(i + 1, story, at - timedelta(days=1), at + timedelta(days=1), vectors[i],
                     frozenset(found), None)
            )  # fmt: skip
        session.bulk_insert_mappings(Item, items)
        session.bulk_insert_mappings(
            StoryAnchor, [{"story_id": s, "anchor": a, "at": t} for (s, a), t in postings.items()]
        )
        session.bulk_insert_mappings(
            AnchorStat, [{"anchor": a, "docs": n} for a, n in counts.items()]
        )
        session.commit()
    started = time.perf_counter()
    detector.index.add_many(held)
    print(f"  {size} reports: index built in {time.perf_counter() - started:.1f} s")
    session = Session(engine)
    detector.index.ensure(session, START)  # the window is held: nothing to load
    return detector, session, rng


def bench(size: int, queries: int, folder: Path) -> float:
    detector, session, rng = load(size, folder)
    stories = size // PER_STORY
    times = []
    for q in range(queries + 10):
        story = int(rng.integers(1, stories + 1))
        at = START + timedelta(days=WINDOW_DAYS / 2)
        report = Report(
            f"q{q}", at - timedelta(days=1), at + timedelta(days=1), unit(rng, 1)[0],
            frozenset(report_anchors(rng, story)),
        )  # fmt: skip
        started = time.perf_counter()
        detector.decide(session, report)
        elapsed = time.perf_counter() - started
        session.rollback()
        if q >= 10:  # the first calls warm caches
            times.append(elapsed)
    session.close()
    ms = 1000 * float(np.median(times))
    print(f"  {size} in window: retrieval + scoring median {ms:.2f} ms/report, "
          f"p90 {1000 * float(np.percentile(times, 90)):.2f} ms")  # fmt: skip
    return ms


def embedding_throughput() -> None:
    model = load_embedder("use-m3")
    if model is None:
        print("embedding: model unavailable")
        return
    text = "Magnitude 6.2 earthquake strikes Sumatra near Padang. " * 12  # ~650 characters
    model.encode([text] * 8)
    started = time.perf_counter()
    model.encode([text] * 256)
    rate = 256 / (time.perf_counter() - started)
    print(f"embedding ({model.name}, {len(text)} characters, batches of 256): {rate:.0f} texts/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = {size: bench(size, args.queries, Path(folder)) for size in args.sizes}
    low, high = results[min(results)], results[max(results)]
    print(f"ratio {max(results)} / {min(results)}: {high / low:.2f}×")
    embedding_throughput()


if __name__ == "__main__":
    main()
