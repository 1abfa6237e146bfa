"""An in-memory vector index over the reports inside the story time window.

Only the window is held, so memory and search cost follow the news rate, not the store size.
The database stays the truth: the index reloads what it lacks (also what other workers wrote).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.store.models import Item
from monitor.story.embedding import DIMENSIONS, Vector, from_bytes
from monitor.story.timing import time_range


@dataclass(slots=True)
class Neighbour:
    item_id: int
    story_id: int
    similarity: float


class WindowIndex:
    def __init__(self, span: timedelta) -> None:
        self.span = span
        self._ids = np.zeros(0, dtype=np.int64)
        self._stories = np.zeros(0, dtype=np.int64)
        # each report's publication time as a range: [earliest, latest] (an estimate is wide)
        self._earliest = np.zeros(0, dtype=np.float64)
        self._latest = np.zeros(0, dtype=np.float64)
        self._vectors = np.zeros((0, DIMENSIONS), dtype=np.float32)
        self._size = 0
        self._covered: tuple[datetime, datetime] | None = None
        self._max_id = 0

    def __len__(self) -> int:
        return self._size

    def add(
        self, item_id: int, story_id: int, earliest: datetime, latest: datetime, vector: Vector
    ) -> None:
        if self._size == len(self._ids):
            self._grow(max(1024, 2 * self._size))
        i = self._size
        self._ids[i], self._stories[i], self._vectors[i] = item_id, story_id, vector
        self._earliest[i], self._latest[i] = earliest.timestamp(), latest.timestamp()
        self._size += 1
        self._max_id = max(self._max_id, item_id)

    def _grow(self, capacity: int) -> None:
        n = self._size
        ids, stories = np.zeros(capacity, np.int64), np.zeros(capacity, np.int64)
        earliest, latest = np.zeros(capacity, np.float64), np.zeros(capacity, np.float64)
        vectors = np.zeros((capacity, DIMENSIONS), np.float32)
        ids[:n], stories[:n], vectors[:n] = self._ids[:n], self._stories[:n], self._vectors[:n]
        earliest[:n], latest[:n] = self._earliest[:n], self._latest[:n]
        self._ids, self._stories, self._vectors = ids, stories, vectors
        self._earliest, self._latest = earliest, latest

    def _load(self, session: Session, lo: datetime, hi: datetime, min_id: int = 0) -> None:
        """Reports whose time range meets [lo, hi]: dated ones by publication time, estimated
        ones (a lower bound up to first sight) also by when they were first seen."""
        columns = [
            col(c)
            for c in (
                Item.id,
                Item.story_id,
                Item.published,
                Item.published_kind,
                Item.first_seen,
                Item.embedding,
            )
        ]
        common = (
            col(Item.embedding).is_not(None),
            col(Item.story_id).is_not(None),
            col(Item.id) > min_id,
        )
        dated = sa_select(*columns).where(
            col(Item.published) >= lo, col(Item.published) <= hi, *common
        )
        estimated = sa_select(*columns).where(
            col(Item.published_kind) == "estimated",
            col(Item.published) < lo,
            col(Item.first_seen) >= lo,
            *common,
        )
        for query in (dated, estimated):
            for item_id, story_id, published, kind, first_seen, blob in session.execute(
                query
            ).all():
                earliest, latest = time_range(published, kind, first_seen)
                if item_id and story_id and earliest and blob:
                    self.add(item_id, story_id, earliest, latest, from_bytes(blob))

    def _ensure(self, session: Session, lo: datetime, hi: datetime) -> None:
        """Hold every stored report in [lo, hi]: reload on a jump, top up otherwise."""
        if self._covered is None or lo < self._covered[0] or hi > self._covered[1]:
            self._size, self._max_id = 0, 0
            self._covered = (lo - self.span, hi + self.span)
            self._load(session, *self._covered)
            return
        newest = session.exec(select(func.max(Item.id))).one() or 0
        if newest > self._max_id:  # written since, by us or by another worker
            known = self._max_id
            self._load(session, *self._covered, min_id=known)

    def search(
        self, session: Session, vector: Vector, lo: datetime, hi: datetime, k: int = 10
    ) -> list[Neighbour]:
        self._ensure(session, lo, hi)
        n = self._size
        in_range = np.flatnonzero(
            (self._latest[:n] >= lo.timestamp()) & (self._earliest[:n] <= hi.timestamp())
        )
        if not len(in_range):
            return []
        similarities: npt.NDArray[np.float32] = self._vectors[in_range] @ vector
        top = in_range[np.argsort(-similarities)[:k]]
        return [
            Neighbour(int(self._ids[i]), int(self._stories[i]), float(self._vectors[i] @ vector))
            for i in top
        ]
