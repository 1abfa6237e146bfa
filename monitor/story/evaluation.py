"""Measure story detection on human-labelled pairs of articles.

The articles go through the normal backfill pipeline into a fresh temporary database; only
then are the labels read, to score each pair: "predicted same" means both articles ended in
one story. The labels never reach the detector.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC
from itertools import combinations
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlmodel import Session, col, select

from monitor.backfill import prepare, read_targets
from monitor.config import StorySettings
from monitor.pipeline import Pipeline
from monitor.store.database import open_database
from monitor.store.models import Item
from monitor.story.embedding import Embedder

BOOTSTRAP_SAMPLES = 2000


class EvalInputError(Exception):
    """An unreadable articles or pairs file, worded for the operator."""


@dataclass(frozen=True, slots=True)
class Pair:
    id1: str
    id2: str
    languages: tuple[str, str]  # sorted, so both orders count together
    same: bool

    @property
    def label(self) -> str:
        return "-".join(self.languages)


@dataclass(slots=True)
class Score:
    tp: int
    fp: int
    fn: int
    pairs: int
    precision: float
    recall: float
    f1: float
    interval: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(slots=True)
class Result:
    articles: int
    stored: int
    stories: int
    overall: Score
    cross_lingual: Score
    by_languages: dict[str, Score]
    cross_pair_merges: int
    missing: list[str]
    seconds: float
    embedding_seconds: float
    embedded: int
    model: str


class TimedEmbedder:
    """The configured model, timed: embedding throughput is reported apart from detection."""

    def __init__(self, model: Embedder) -> None:
        self.model = model
        self.name = model.name
        self.seconds = 0.0
        self.texts = 0

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        start = time.perf_counter()
        vectors = self.model.encode(texts)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return vectors


def read_pairs(path: Path) -> list[Pair]:
    pairs = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalInputError(f"{path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            first, second = sorted((str(row["lang1"]), str(row["lang2"])))
            pair = Pair(str(row["id1"]), str(row["id2"]), (first, second), row["label"] == "same")
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalInputError(f"{path}:{number}: not a labelled pair ({exc})") from None
        pairs.append(pair)
    if not pairs:
        raise EvalInputError(f"{path}: no labelled pairs")
    return pairs


def backfill_stories(
    articles: Path, settings: StorySettings, embedder: Embedder | None
) -> tuple[dict[str, int], int]:
    """Story id of every stored article (by its id), through the real pipeline; and the
    number of articles read."""
    with tempfile.TemporaryDirectory(prefix="monitor-eval-") as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'eval.db'}")
        try:
            batches = read_targets([str(articles)])
            problems = [f"{b.key}: {b.error}" for b in batches if b.error]
            if problems:
                raise EvalInputError("; ".join(problems))
            corpus = prepare(engine, batches, UTC)
            pipeline = Pipeline(engine, settings, [], embedder, deliver=False)
            pipeline.ingest(corpus.incoming)
            with Session(engine) as session:
                rows = session.exec(
                    select(Item.external_id, Item.story_id).where(
                        col(Item.external_id).is_not(None)
                    )
                ).all()
        finally:
            engine.dispose()
    return {str(e): s for e, s in rows if e is not None and s is not None}, len(corpus.incoming)


def evaluate(
    articles: Path,
    pairs_path: Path,
    settings: StorySettings,
    embedder: Embedder | None,
    samples: int = BOOTSTRAP_SAMPLES,
) -> Result:
    pairs = read_pairs(pairs_path)  # read first: a bad file fails before the long part
    timed = TimedEmbedder(embedder) if embedder is not None else None
    start = time.perf_counter()
    story_of, read = backfill_stories(articles, settings, timed)
    seconds = time.perf_counter() - start
    predicted = [
        p.id1 in story_of and p.id2 in story_of and story_of[p.id1] == story_of[p.id2]
        for p in pairs
    ]
    by_languages: defaultdict[str, list[int]] = defaultdict(list)
    for k, p in enumerate(pairs):
        by_languages[p.label].append(k)
    cross = [k for k, p in enumerate(pairs) if p.languages[0] != p.languages[1]]
    every = list(range(len(pairs)))
    return Result(
        articles=read,
        stored=len(story_of),
        stories=len(set(story_of.values())),
        overall=score(pairs, predicted, every, samples),
        cross_lingual=score(pairs, predicted, cross, samples),
        by_languages={
            lp: score(pairs, predicted, ks, samples) for lp, ks in sorted(by_languages.items())
        },
        cross_pair_merges=cross_pair_merges(story_of, pairs),
        missing=sorted({i for p in pairs for i in (p.id1, p.id2)} - story_of.keys()),
        seconds=seconds,
        embedding_seconds=timed.seconds if timed else 0.0,
        embedded=timed.texts if timed else 0,
        model=embedder.name if embedder else "none",
    )


def cross_pair_merges(story_of: dict[str, int], pairs: list[Pair]) -> int:
    """Articles put in one story that no labelled pair joins: presumed different events."""
    labelled = {frozenset((p.id1, p.id2)) for p in pairs}
    members: defaultdict[int, list[str]] = defaultdict(list)
    for article, story in story_of.items():
        members[story].append(article)
    return sum(
        frozenset(two) not in labelled
        for group in members.values()
        for two in combinations(sorted(group), 2)
    )


def _counts(pairs: list[Pair], predicted: list[bool], ks: list[int]) -> tuple[int, int, int]:
    tp = sum(1 for k in ks if predicted[k] and pairs[k].same)
    fp = sum(1 for k in ks if predicted[k] and not pairs[k].same)
    fn = sum(1 for k in ks if not predicted[k] and pairs[k].same)
    return tp, fp, fn


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score(pairs: list[Pair], predicted: list[bool], ks: list[int], samples: int) -> Score:
    """Precision, recall, F1 of "same", with percentile bootstrap 95% intervals over pairs."""
    tp, fp, fn = _counts(pairs, predicted, ks)
    result = Score(tp, fp, fn, len(ks), *_prf(tp, fp, fn))
    if not ks or samples <= 0:
        return result
    rng = random.Random(0)
    drawn: dict[str, list[float]] = {"precision": [], "recall": [], "f1": []}
    for _ in range(samples):
        sample = [ks[rng.randrange(len(ks))] for _ in ks]
        for name, value in zip(drawn, _prf(*_counts(pairs, predicted, sample)), strict=True):
            drawn[name].append(value)
    result.interval = {
        name: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
        for name, v in drawn.items()
    }
    return result
