"""Backfill: push a corpus (folders, files, dumps, feed URLs) through the same pipeline.

Everything is read and normalized first, then ingested in publication order across all
inputs, so a backfill forms the same stories and related links live polling would have.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

import aiohttp
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.fetch.http import FetchError, fetch
from monitor.normalize.article import normalize
from monitor.parse.corpus import Batch, parse_any_feed, read_path
from monitor.parse.entry import ParseError
from monitor.pipeline import Incoming, Pipeline, Stats
from monitor.store.models import Source

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Problem:
    where: str
    reason: str


@dataclass(slots=True)
class Corpus:
    incoming: list[Incoming] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


async def _fetch_batch(url: str) -> Batch:
    batch = Batch(key=url, kind="feed", name=url, url=url)
    async with aiohttp.ClientSession() as session:
        try:
            response = await fetch(session, url)
            feed = parse_any_feed(response.body, response.url, response.headers)
        except (FetchError, ParseError) as exc:
            batch.error = str(exc)
            return batch
    batch.name, batch.entries = feed.title or url, feed.entries
    batch.warnings = ([feed.warning] if feed.warning else []) + feed.skipped
    return batch


def read_targets(targets: list[str]) -> list[Batch]:
    batches: list[Batch] = []
    for target in targets:
        if is_url(target):
            batches.append(asyncio.run(_fetch_batch(target)))
        elif Path(target).exists():
            batches.extend(read_path(Path(target)))
        else:
            batches.append(
                Batch(
                    key=target,
                    kind="file",
                    name=target,
                    url=None,
                    error="no such file, folder or URL",
                )
            )
    return batches


def source_id(session: Session, batch: Batch) -> int:
    """The source row for a batch, created on first sight."""
    source = session.exec(select(Source).where(Source.key == batch.key)).first()
    if source is None:
        source = Source(key=batch.key, kind=batch.kind, name=batch.name, url=batch.url)
        session.add(source)
        session.commit()
        session.refresh(source)
    assert source.id is not None
    return source.id


def prepare(engine: Engine, batches: list[Batch], tz: tzinfo) -> Corpus:
    """Normalize every entry; unreadable sources and entries are reported, never fatal."""
    corpus = Corpus()
    with Session(engine) as session:
        for batch in batches:
            if batch.error:
                corpus.problems.append(Problem(batch.key, batch.error))
                continue
            corpus.warnings.extend(Problem(batch.key, w) for w in batch.warnings)
            if not batch.entries:
                continue
            sid = source_id(session, batch)
            for entry in batch.entries:
                try:
                    corpus.incoming.append(Incoming(sid, normalize(entry, tz)))
                except Exception as exc:  # one bad entry must not stop a corpus
                    where = f"{batch.key} entry {entry.external_id or entry.url or entry.title!r}"
                    corpus.problems.append(Problem(where, f"{type(exc).__name__}: {exc}"))
    return corpus


def run_backfill(
    pipeline: Pipeline, corpus: Corpus, progress: Callable[[int], None] | None = None
) -> Stats:
    stats = pipeline.ingest(corpus.incoming, progress)
    stats.errors += len(corpus.problems)
    return stats
