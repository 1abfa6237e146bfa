"""Workers racing on one database: one story per event, and no row claimed twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from monitor.backfill import prepare, read_targets
from monitor.config import StorySettings
from monitor.pipeline import Incoming, Pipeline
from monitor.store.claims import claim
from monitor.store.models import Alert, Item, Source, Story, utcnow
from monitor.story.embedding import Embedder
from monitor.watchlist.loader import load_watchlists

T = TypeVar("T")
WORKERS = 4


def race(work: Callable[[int], T], workers: int = WORKERS) -> list[T]:
    """Run ``work(n)`` in ``workers`` threads released at the same instant."""
    barrier = threading.Barrier(workers)
    results: list[T | None] = [None] * workers
    errors: list[BaseException] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return [r for r in results if r is not None]


def test_workers_ingesting_one_event_at_once_form_each_story_once(
    engine: Engine, seeds_dir: Path, watchlists_dir: Path, embedder: Embedder | None
) -> None:
    """Each worker gets the three seeds from its own source: 4 copies of 2 events."""
    corpus = prepare(engine, read_targets([str(seeds_dir)]), UTC)
    with Session(engine) as session:
        sources = [Source(key=f"copy:{n}", kind="feed", name=f"copy {n}") for n in range(WORKERS)]
        session.add_all(sources)
        session.commit()
        source_ids = [s.id for s in sources]
    watchlists = load_watchlists(watchlists_dir)

    def ingest(n: int) -> int:
        pipeline = Pipeline(engine, StorySettings(), watchlists, embedder, deliver=False)
        copies = [Incoming(source_ids[n] or 0, i.article) for i in corpus.incoming]
        return pipeline.ingest(copies).stories

    assert sum(race(ingest)) == 2
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Item)).one() == 3 * WORKERS
        assert sorted(s.item_count for s in session.exec(select(Story)).all()) == [
            WORKERS,
            2 * WORKERS,
        ]
        routes = session.exec(select(Alert.story_id, Alert.rule, Alert.channel)).all()
        assert len(routes) == len(set(routes)) == 4


def test_claimers_never_share_a_row_and_a_lapsed_lease_is_taken_over(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all(
            Source(key=f"https://feeds.test/{n}", kind="feed", name=f"feed {n}") for n in range(120)
        )
        session.commit()
    feeds = select(Source).where(Source.kind == "feed").order_by(col(Source.id))

    def drain(n: int) -> list[int]:
        taken: list[int] = []
        with Session(engine) as session:
            while rows := claim(session, feeds, f"worker-{n}", timedelta(minutes=5), limit=7):
                taken.extend(s.id or 0 for s in rows)
        return taken

    claimed = race(drain)
    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 120
    with Session(engine) as session:
        owners = {s.id: s.lease_owner for s in session.exec(select(Source)).all()}
        assert all(owners[i] == f"worker-{n}" for n, ids in enumerate(claimed) for i in ids)
        assert claim(session, feeds, "late", timedelta(minutes=5)) == []
        lapsed = session.exec(feeds.limit(3)).all()
        for source in lapsed:  # as if its worker died five minutes ago
            source.lease_until = utcnow() - timedelta(seconds=1)
            session.add(source)
        session.commit()
        taken = claim(session, feeds, "heir", timedelta(minutes=5))
        assert [s.lease_owner for s in taken] == ["heir"] * 3
