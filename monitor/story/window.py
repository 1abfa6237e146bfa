"""The reports inside the story time window, held in memory with two indexes over them.

- vectors: HNSW graphs (faiss), one per time shard, so a search costs about the logarithm of
  the window's size and leaving the window is dropping a shard (HNSW cannot delete);
- MinHash LSH over word shingles, so a wire copy is found by a few hash lookups.

Only the window is held, so memory and search cost follow the news rate, not the store size.
The database stays the truth: the index loads what it lacks, including what other workers
wrote since.
"""

from __future__ import annotations

import math
import weakref
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import faiss
import numpy as np
from datasketch import LeanMinHash, MinHashLSH
from sqlalchemy import bindparam, case, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from monitor.store.models import Item
from monitor.story.anchors import lead
from monitor.story.embedding import DIMENSIONS, Vector, from_bytes
from monitor.story.timing import time_range
from monitor.textfold import fold_word, words

NUM_PERM = 64
SHINGLE_WORDS = 3
SHINGLE_CHARS = 2000
_LEAD_CHARS = SHINGLE_CHARS + 200  # enough of a text for its lead, title repeated or not
# Stored signatures must stay comparable across processes and versions: fixed permutations.
_SEED = 1
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)
_PERM_A, _PERM_B, _MIX = np.random.default_rng(_SEED).integers(
    1, _MERSENNE, size=(3, NUM_PERM), dtype=np.uint64
)
# Wire copies: the same words, give or take a headline, a byline and a closing line.
COPY_JACCARD = 0.7
# Reports held beyond the window serve undated reports; past this many the oldest go.
MAX_HELD = 250_000
_HNSW_LINKS = 16
_HNSW_EF_SEARCH = 64
_HNSW_EF_CONSTRUCTION = 40
# One vector at a time is added and searched: OpenMP's thread hand-off cost more than the
# work (4 ms per add under load), and the other core is the model process's.
faiss.omp_set_num_threads(1)


# What a Held is made of, in ``held_from_row``'s order.
HELD_COLUMNS = (
    col(Item.id),
    col(Item.story_id),
    col(Item.published),
    col(Item.published_kind),
    col(Item.first_seen),
    col(Item.url),
    col(Item.embedding),
    col(Item.anchors),
)
# What the index holds of a stored report, by id; statements built once.
_NEWER = (
    sa_select(
        *HELD_COLUMNS,
        col(Item.signature),
        # the text only where a row predates stored signatures
        case((col(Item.signature).is_(None), col(Item.title))),
        case((col(Item.signature).is_(None), func.substr(col(Item.text), 1, _LEAD_CHARS))),
    )
    .where(col(Item.story_id).is_not(None), col(Item.id) > bindparam("after"))
    .order_by(col(Item.id))
)
# published ± a day; undated and estimated reports by when they were first seen
_NEWER_IN_WINDOW = _NEWER.where(
    or_(
        col(Item.published) >= bindparam("published_from"),
        col(Item.first_seen) >= bindparam("seen_from"),
    )
)


def minhash(title: str, text: str) -> LeanMinHash | None:
    """The MinHash of a report's word shingles, or None for a text too short to compare.

    Hashing is our own, vectorized, with permutations fixed once: datasketch's ``MinHash``
    draws its permutations per object and hashes each shingle in Python, which made the
    signature cost more than the rest of a report's story decision. Words are hashed once
    and combined into shingle hashes with array arithmetic.
    """
    written = words(lead(title, text, SHINGLE_CHARS))
    if len(written) < 4 * SHINGLE_WORDS:
        return None
    hashed = np.fromiter(map(_word_hash, written), np.uint64, len(written))
    # a shingle's hash from its words' hashes, order-sensitive (products wrap at 64 bits)
    mixed = hashed[:-2] * _MIX[0] + hashed[1:-1] * _MIX[1] + hashed[2:]
    shingles = np.unique((mixed ^ (mixed >> np.uint64(32))) & _MAX_HASH)
    # (a·h + b) mod p over every permutation at once
    permuted = np.bitwise_and((np.outer(shingles, _PERM_A) + _PERM_B) % _MERSENNE, _MAX_HASH)
    return LeanMinHash(seed=_SEED, hashvalues=permuted.min(axis=0), scheme="legacy")


@lru_cache(maxsize=65536)
def _word_hash(word: str) -> int:
    """A written word's hash, by its folded form (news repeats its words: remembered)."""
    return zlib.crc32(fold_word(word).encode())


def signature_to_bytes(signature: LeanMinHash) -> bytes:
    return np.asarray(signature.hashvalues, dtype=np.uint32).tobytes()  # values < 2**32


def signature_from_bytes(blob: bytes) -> LeanMinHash:
    hashvalues = np.frombuffer(blob, dtype=np.uint32).astype(np.uint64)
    return LeanMinHash(seed=_SEED, hashvalues=hashvalues, scheme="legacy")


@dataclass(slots=True)
class Held:
    """What story detection needs of a report in the window."""

    item_id: int
    story_id: int
    earliest: datetime | None
    latest: datetime
    vector: Vector | None
    anchors: frozenset[str]
    signature: LeanMinHash | None

    @property
    def span(self) -> tuple[datetime | None, datetime]:
        return self.earliest, self.latest


def held_from_row(row: Sequence[Any]) -> Held:
    """A Held, without its signature, from a row that starts with HELD_COLUMNS."""
    item_id, story_id, published, kind, first_seen, url, blob, anchors = row[: len(HELD_COLUMNS)]
    earliest, latest = time_range(published, kind, first_seen, url)
    vector = from_bytes(blob) if blob else None
    return Held(item_id, story_id, earliest, latest, vector, frozenset(anchors.split()), None)


class _Shard:
    """Reports whose latest possible time falls in one slice of time."""

    def __init__(self) -> None:
        self.graph = faiss.IndexHNSWFlat(DIMENSIONS, _HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
        self.graph.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
        self.graph.hnsw.efSearch = _HNSW_EF_SEARCH
        self.labels: list[int] = []  # faiss label → item id
        self.items: list[int] = []  # every item id, with or without a vector

    def add_vectors(self, item_ids: list[int], vectors: np.ndarray) -> None:
        self.graph.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.labels.extend(item_ids)


class WindowIndex:
    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.shard_seconds = max(86400.0, window.total_seconds() / 2)
        self._held: dict[int, Held] = {}
        self._stories: defaultdict[int, list[int]] = defaultdict(list)
        self._shards: dict[int, _Shard] = {}
        self._lsh = MinHashLSH(threshold=COPY_JACCARD, num_perm=NUM_PERM)
        self._from: datetime | None = None  # every stored report with latest ≥ this is held
        self._loaded_to = 0  # the newest item id a load from the database has seen
        self._topped_up: weakref.ref[SessionTransaction] | None = None  # in this transaction

    def __len__(self) -> int:
        return len(self._held)

    def add(self, held: Held) -> None:
        """Hold a report this process just stored."""
        self.add_many([held])
        if held.item_id == self._loaded_to + 1:  # nothing stored in between to read back
            self._loaded_to = held.item_id

    def add_many(self, reports: list[Held]) -> None:
        """Hold reports; vectors go into their shard's graph in one batch per shard."""
        batches: defaultdict[int, list[Held]] = defaultdict(list)
        for held in reports:
            if held.item_id in self._held:
                continue
            self._held[held.item_id] = held
            self._stories[held.story_id].append(held.item_id)
            batches[self._shard_key(held.latest)].append(held)
            if held.signature is not None:
                self._lsh.insert(held.item_id, held.signature, check_duplication=False)
        for key, batch in batches.items():
            shard = self._shards.setdefault(key, _Shard())
            shard.items.extend(h.item_id for h in batch)
            with_vectors = [(h.item_id, h.vector) for h in batch if h.vector is not None]
            if with_vectors:
                ids, vectors = zip(*with_vectors, strict=True)
                shard.add_vectors(list(ids), np.stack(vectors))

    def _shard_key(self, moment: datetime) -> int:
        return math.floor(moment.timestamp() / self.shard_seconds)

    def members(self, story_id: int) -> list[Held]:
        return [self._held[i] for i in self._stories.get(story_id, ())]

    def search(self, vector: Vector, lo: datetime | None, k: int) -> list[tuple[Held, float]]:
        """The ``k`` nearest held reports per shard that may be as late as ``lo``."""
        first = None if lo is None else self._shard_key(lo)
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        found = []
        for key, shard in self._shards.items():
            if (first is not None and key < first) or not shard.labels:
                continue
            similarities, positions = shard.graph.search(query, k)
            for similarity, position in zip(similarities[0], positions[0], strict=True):
                if position >= 0:
                    held = self._held[shard.labels[position]]
                    if lo is None or held.latest >= lo:
                        found.append((held, float(similarity)))
        return found

    def copies(self, signature: LeanMinHash) -> list[Held]:
        """Held reports whose shingles overlap the signature's by about COPY_JACCARD or more."""
        return [self._held[i] for i in self._lsh.query(signature) if i in self._held]

    def ensure(self, session: Session, lo: datetime | None) -> None:
        """Hold every stored report that may be as late as ``lo``.

        Older reports stay held, up to MAX_HELD, for undated reports (``lo`` None): those are
        compared with everything held and, through the anchor index, with older stories; they
        load nothing.
        """
        if lo is not None:
            if self._from is None or lo < self._from:
                start = lo - self.window
                self._load(session, start, self._from)
                self._from = start
            if len(self._held) > MAX_HELD:
                self._evict(before=lo - self.window)
        if self._from is None:
            return
        # Written since, by another worker (or ours, when another's came in between): looked
        # up once a transaction. A PostgreSQL transaction decides one report; a SQLite batch
        # holds the database's write lock from its start, so no one else writes meanwhile.
        transaction = session.get_transaction()
        if self._topped_up is None or self._topped_up() is not transaction:
            self._load(session, self._from, None, after_id=self._loaded_to)
            self._topped_up = weakref.ref(transaction) if transaction else None

    def _evict(self, before: datetime) -> None:
        """Forget the oldest shards, never one that reaches ``before``, down to MAX_HELD."""
        last = self._shard_key(before)
        for key in sorted(k for k in self._shards if k < last):
            if len(self._held) <= MAX_HELD:
                break
            for item_id in self._shards.pop(key).items:
                held = self._held.pop(item_id)
                self._stories[held.story_id].remove(item_id)
                if not self._stories[held.story_id]:
                    del self._stories[held.story_id]
                if held.signature is not None:
                    self._lsh.remove(item_id)
            self._from = datetime.fromtimestamp((key + 1) * self.shard_seconds, before.tzinfo)

    def _load(
        self,
        session: Session,
        start: datetime,
        end: datetime | None,
        after_id: int = 0,
    ) -> None:
        """Stored reports whose latest possible time is in [start, end)."""
        query, values = _NEWER, dict[str, Any](after=after_id)
        if not after_id:  # (a top-up reads a few rows by id: filtering them here is cheaper)
            query = _NEWER_IN_WINDOW
            values |= {"published_from": start - timedelta(days=1), "seen_from": start}
        found = []
        for row in session.connection().execute(query, values).all():
            held = held_from_row(row)
            self._loaded_to = max(self._loaded_to, held.item_id)
            if held.latest < start or (end is not None and held.latest >= end):
                continue
            stored, title, text = row[len(HELD_COLUMNS) :]
            held.signature = signature_from_bytes(stored) if stored else minhash(title, text or "")
            found.append(held)
        self.add_many(found)
