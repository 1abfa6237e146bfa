"""The pipeline every entry point drives: article → item → story → watchlist match → outbox.

``Pipeline.ingest`` is what backfill, the daemon and the tests call. Each report is stored in
one transaction with its story decision, matches and alerts: after a crash a report is either
wholly there or not there at all, and re-running stores it exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Engine, Table, bindparam, case, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from monitor.alert.outbox import record_alerts
from monitor.config import StorySettings
from monitor.normalize.article import Article
from monitor.store.locks import begin_write, lock_keys
from monitor.store.models import (
    Item,
    ItemVersion,
    Match,
    Source,
    Story,
    StoryAnchor,
    utcnow,
)
from monitor.store.upsert import dialect_insert, dialect_of
from monitor.story.decisions import live_story_id
from monitor.story.detector import (
    Fingerprint,
    Report,
    StoryDetector,
    build_report,
    fingerprints,
    name_anchors,
)
from monitor.story.embedding import Embedder, OwnProcess, Vector, embedding_text, to_bytes
from monitor.story.related import related_stories
from monitor.watchlist.matcher import Hit, Matcher, ReportFacts, evaluate
from monitor.watchlist.schema import Watchlist

log = logging.getLogger(__name__)
_EMBED_BATCH = 32
T = TypeVar("T")
_SOURCE_CACHE_SECONDS = 60


@dataclass(slots=True)
class Stats:
    read: int = 0
    new: int = 0
    duplicates: int = 0
    corrections: int = 0
    stories: int = 0
    matches: int = 0
    alerts: int = 0
    errors: int = 0

    def add(self, other: Stats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def summary(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name}" for f in fields(self))


@dataclass(slots=True)
class Incoming:
    """An article and the source it came from.

    ``alert`` False (the daemon's flood rules: a new source's first poll, a source back after
    days, an article older than the alert horizon) stores, clusters and matches the report
    but records its alerts without sending them.
    """

    source_id: int
    article: Article
    alert: bool = True


@dataclass(slots=True)
class Prepared:
    """A batch ready to store: new reports with their vectors and fingerprints, and the ids
    of those already stored (a duplicate, or a correction when the text changed)."""

    fresh: list[Incoming]
    vectors: list[Vector | None]
    fingerprints: list[Fingerprint]
    known: list[tuple[Incoming, int]]


def publication_order(incoming: Incoming) -> datetime:
    """Oldest first, so a backfill decides as live polling would have; undated reports last."""
    return incoming.article.published or datetime.max.replace(tzinfo=UTC)


class Pipeline:
    def __init__(
        self,
        engine: Engine,
        story_settings: StorySettings,
        watchlists: list[Watchlist],
        embedder: Embedder | None,
        deliver: bool,
    ) -> None:
        self.engine = engine
        self.story_settings = story_settings
        self.detector = StoryDetector(story_settings)
        self.embedder = embedder
        self.deliver = deliver
        self.set_watchlists(watchlists)
        self._sources: dict[int, tuple[str, ...]] = {}
        self._sources_read = time.monotonic()

    def compute(self, function: Callable[..., T], *args: Any) -> T:
        """Run a pure, CPU-bound stage (parsing, normalizing) beside the story work: in the
        model's process when it has one (another core, another GIL), else right here."""
        if isinstance(self.embedder, OwnProcess):
            return self.embedder.run(function, *args)
        return function(*args)

    def set_watchlists(self, watchlists: list[Watchlist]) -> None:
        """Swap in a new watchlist version; takes effect on the next report."""
        self.watchlists = watchlists
        self.matcher = Matcher(watchlists)

    def ingest(
        self, incoming: list[Incoming], progress: Callable[[int], None] | None = None
    ) -> Stats:
        """Store, cluster, match and queue alerts for reports, in publication order.

        The next batch is prepared (triaged, embedded) in a background thread while this one
        is stored; with the model in its own process (``ModelProcess``) the two use two cores.
        """
        stats = Stats(read=len(incoming))
        ordered = sorted(incoming, key=publication_order)
        batches = [ordered[i : i + _EMBED_BATCH] for i in range(0, len(ordered), _EMBED_BATCH)]
        with ThreadPoolExecutor(1, thread_name_prefix="prepare") as pool:
            ahead = pool.submit(self.prepare, batches[0]) if batches else None
            for following in [*batches[1:], None]:
                assert ahead is not None
                prepared = ahead.result()
                ahead = pool.submit(self.prepare, following) if following else None
                stats.add(self.store(prepared))
                if progress:
                    progress(len(prepared.fresh) + len(prepared.known))
        return stats

    def prepare(self, incoming: list[Incoming]) -> Prepared:
        """Set apart reports already stored and embed the others; reads, never writes, so it
        may run in another thread than ``store``."""
        fresh, known = [], []
        ordered = sorted(incoming, key=publication_order)
        with Session(self.engine) as session:
            for one, item_id in zip(ordered, existing_items(session, ordered), strict=True):
                if item_id is None:
                    fresh.append(one)
                else:
                    known.append((one, item_id))
        articles = [one.article for one in fresh]
        # fingerprints where the model runs: the other core, while this one stores
        marks = self.compute(fingerprints, articles) if articles else []
        return Prepared(fresh, self._embed(articles), marks, known)

    def store(self, prepared: Prepared) -> Stats:
        """Corrections of stored reports, then the new ones, each all or nothing."""
        stats = Stats()
        for incoming, item_id in prepared.known:
            if self._correct(item_id, incoming):
                stats.corrections += 1
            else:
                stats.duplicates += 1
        fresh = list(zip(prepared.fresh, prepared.vectors, prepared.fingerprints, strict=True))
        if self.engine.dialect.name == "sqlite":
            stats.add(self._store_together(fresh))
        else:
            for one in fresh:
                stats.add(self._store_alone(*one))
        return stats

    def _store_alone(
        self, incoming: Incoming, vector: Vector | None, fingerprint: Fingerprint
    ) -> Stats:
        """One report, one transaction (PostgreSQL): other workers wait on its neighbourhood's
        locks only while this one report is decided."""
        with Session(self.engine) as session:
            try:
                stats, stored = self._store(session, incoming, vector, fingerprint)
                session.commit()
            except IntegrityError:  # stored since ``prepare`` looked, by another worker
                session.rollback()
                return Stats(duplicates=1)
        if stored:
            self.detector.remember(*stored)
        return stats

    def _store_together(self, fresh: list[tuple[Incoming, Vector | None, Fingerprint]]) -> Stats:
        """A batch in one transaction (SQLite): one process writes at a time anyway, and a
        commit cost as much as a report's story decision. Under the write lock, reports
        stored since ``prepare`` looked, or twice in the batch, are set aside first, so no
        insert can fail on them. Each report is held in the window as soon as it is
        written, so the next one in the batch can join its story; if the batch fails, the
        window, holding reports that were never committed, is dropped and loads again."""
        stats = Stats()
        with Session(self.engine) as session:
            try:
                begin_write(session)
                repeated = stored_or_repeated(session, [incoming for incoming, *_ in fresh])
                for one, duplicate in zip(fresh, repeated, strict=True):
                    if duplicate:
                        stats.duplicates += 1
                        continue
                    report_stats, stored = self._store(session, *one)
                    if stored:
                        self.detector.remember(*stored)
                    stats.add(report_stats)
                session.commit()
            except BaseException:
                self.detector = StoryDetector(self.story_settings)
                raise
        return stats

    def _embed(self, articles: list[Article]) -> list[Vector | None]:
        if self.embedder is None or not articles:
            return [None] * len(articles)
        matrix = self.embedder.encode([embedding_text(a.title, a.text) for a in articles])
        return list(matrix)

    def _correct(self, item_id: int, incoming: Incoming) -> bool:
        """A changed headline or text from the item's own source updates the item, keeping
        the earlier version.

        It is matched again; record_alerts adds an alert only for a rule the story did not
        match before, so a correction alerts again only when it makes a new match.
        """
        article = incoming.article
        with Session(self.engine) as session:
            item = session.get(Item, item_id)
            if (
                item is None
                or item.source_id != incoming.source_id
                or item.content_hash == article.content_hash
                or item.story_id is None
            ):
                return False
            assert item.id is not None
            session.add(
                ItemVersion(
                    item_id=item.id,
                    title=item.title,
                    text=item.text,
                    content_hash=item.content_hash,
                )
            )
            item.title, item.text, item.content_hash = (
                article.title,
                article.text,
                article.content_hash,
            )
            session.add(item)
            story = session.get(Story, item.story_id)
            assert story is not None and story.id is not None
            args = (story.id, story.muted, item.id, incoming, item.first_seen)
            self._match(session, *args, correction=True)
            session.commit()
        log.info("item %s corrected by its source", item_id)
        return True

    def _store(
        self,
        session: Session,
        incoming: Incoming,
        vector: Vector | None,
        fingerprint: Fingerprint,
    ) -> tuple[Stats, tuple[int, int, Report] | None]:
        """One report's writes, its story decision serialized with its neighbours'; the
        caller commits. Returns what to hold in the window once written (None: a duplicate);
        raises IntegrityError when the report turns out to be stored already."""
        article, now = incoming.article, utcnow()
        stats = Stats(new=1)
        report = build_report(article, vector, fingerprint, now)
        lock_keys(session, neighbourhood(report))
        # Stored since ``prepare`` looked? The unique source id and canonical URL catch it at
        # the insert below; only a report with neither needs looking up again.
        if not (article.external_id or article.canonical_url) and any(
            existing_items(session, [incoming])
        ):
            return Stats(duplicates=1), None
        decision = self.detector.decide(session, report)
        story_id, muted = self._story_for(session, decision.story_id, article, now)
        stats.stories = int(decision.story_id is None)
        row = _item_row(incoming, vector, fingerprint, story_id, now)
        item_id = session.connection().execute(_NEW_ITEM, row).scalar_one()
        upsert_anchors(session, story_id, name_anchors(report.anchors), report.latest)
        if decision.story_id is None:
            self._link_related(session, story_id, report)
        stats.matches, stats.alerts = self._match(
            session, story_id, muted, item_id, incoming, now, new_story=stats.stories > 0
        )
        log.debug("item %s → story %s (%s)", item_id, story_id, decision.reason)
        return stats, (item_id, story_id, report)

    def _story_for(
        self, session: Session, story_id: int | None, article: Article, now: datetime
    ) -> tuple[int, bool]:
        """The id of the story the report joins, its counters updated, or of a new one; and
        whether it is muted. Written with plain statements: the ORM's flush cost more than
        the story decision's SQL altogether."""
        connection = session.connection()
        if story_id is None:
            row = {"first_published": article.published, "last_published": article.published}
            new_id = connection.execute(
                _NEW_STORY,
                row
                | {"title": article.title, "first_seen": now, "updated_at": now}
                | {"item_count": 1, "muted": False},
            ).scalar_one()
            return new_id, False
        # One UPDATE reads and writes the counters: workers adding reports to one story from
        # different neighbourhoods (no shared name) take turns on its row, losing no update.
        join = _JOIN_STORY if article.published is None else _JOIN_STORY_DATED
        values = {"now": now, "published": article.published}
        joined = connection.execute(join, values | {"story": story_id}).first()
        if joined is None:  # merged (issue 8): the report joins the story it went into
            live = live_story_id(session, story_id, lock=True)
            joined = connection.execute(join, values | {"story": live}).one()
        return joined.id, joined.muted

    def _link_related(self, session: Session, story_id: int, report: Report) -> None:
        rows = [
            {"story_id": story_id, "related_id": r.story_id, "score": r.score, "reason": r.reason}
            for r in related_stories(session, story_id, report, self.detector)
        ]
        if rows:
            session.connection().execute(_table("storylink").insert(), rows)

    def _match(
        self,
        session: Session,
        story_id: int,
        muted: bool,
        item_id: int,
        incoming: Incoming,
        seen: datetime,
        new_story: bool = False,
        correction: bool = False,
    ) -> tuple[int, int]:
        article = incoming.article
        facts = ReportFacts.of(
            article.language,
            article.published,
            seen,
            article.outlet,
            article.url,
            *self._source_names(session, incoming.source_id),
        )
        matcher = self.matcher  # one version throughout, even if a reload swaps it meanwhile
        hits = matcher.find(article.full_text)
        rule_matches = evaluate(matcher.watchlists, hits, facts)
        known = set()
        if correction:  # keep the hits the earlier version already recorded
            known = {
                (m.watchlist, m.rule, m.kind, m.name, m.span_start)
                for m in session.exec(select(Match).where(Match.item_id == item_id)).all()
            }
        rows, now = [], utcnow()
        for rule_match in rule_matches:
            for hit in rule_match.hits:
                key = (hit.watchlist, rule_match.rule.name, hit.kind, hit.name, hit.start)
                if key in known:
                    continue
                known.add(key)
                rows.append(_match_row(story_id, item_id, rule_match.rule.name, hit, now))
        if rows:
            session.connection().execute(_table("match").insert(), rows)
        # Analyst decisions (issue 8): a muted story keeps its matches but raises no alerts.
        if muted:
            return sum(len(m.hits) for m in rule_matches), 0
        alerts = record_alerts(
            session,
            story_id,
            item_id,
            rule_matches,
            self.deliver and incoming.alert,
            quiet=not incoming.alert,
            # a new story has no alert to follow; a correction was followed already
            follow=not (new_story or correction),
        )
        return sum(len(m.hits) for m in rule_matches), len(alerts)

    def _source_names(self, session: Session, source_id: int) -> tuple[str, ...]:
        """What watchlist source filters compare: name, key, URL. Cached for a minute: an
        operator's rename shows by then, and a look-up per report cost 0.7 ms."""
        if time.monotonic() - self._sources_read > _SOURCE_CACHE_SECONDS:
            self._sources.clear()
            self._sources_read = time.monotonic()
        if source_id not in self._sources:
            names = session.connection().execute(_SOURCE_NAMES, {"id": source_id}).first() or ()
            self._sources[source_id] = tuple(n for n in names if n)
        return self._sources[source_id]


def _match_row(story_id: int, item_id: int, rule: str, hit: Hit, now: datetime) -> dict[str, Any]:
    return {
        "story_id": story_id,
        "item_id": item_id,
        "watchlist": hit.watchlist,
        "rule": rule,
        "kind": hit.kind,
        "name": hit.name,
        "term": hit.term,
        "method": hit.method,
        "score": hit.score,
        "span_start": hit.start,
        "span_end": hit.end,
        "snippet": hit.snippet,
        "created": now,
    }


def _item_row(
    incoming: Incoming,
    vector: Vector | None,
    fingerprint: Fingerprint,
    story_id: int,
    now: datetime,
) -> dict[str, Any]:
    article = incoming.article
    return {
        "source_id": incoming.source_id,
        "external_id": article.external_id,
        "canonical_url": article.canonical_url,
        "content_hash": article.content_hash,
        "url": article.url,
        "title": article.title,
        "text": article.text,
        "language": article.language,
        "outlet": article.outlet,
        "published": article.published,
        "published_kind": article.published_kind,
        "first_seen": now,
        "story_id": story_id,
        "embedding": to_bytes(vector) if vector is not None else None,
        "signature": fingerprint.signature,
        "anchors": " ".join(sorted(fingerprint.anchors)),
    }


def neighbourhood(report: Report) -> list[str]:
    """The lock keys of a report's story decision: its names, which any report it could join
    shares (anchors are language-independent). Nameless reports share one key: they are few."""
    names = name_anchors(report.anchors)
    return sorted(names) if names else ["story:nameless"]


# Built once: building a statement cost ten times its run.
_SOURCE_NAMES = sa_select(col(Source.name), col(Source.key), col(Source.url)).where(
    col(Source.id) == bindparam("id")
)
_BY_EXTERNAL_ID = sa_select(col(Item.id), col(Item.external_id)).where(
    col(Item.source_id) == bindparam("source"),
    col(Item.external_id).in_(bindparam("values", expanding=True)),
)
_BY_URL = sa_select(col(Item.id), col(Item.canonical_url)).where(
    col(Item.canonical_url).in_(bindparam("values", expanding=True))
)
_BY_CONTENT = sa_select(col(Item.id), col(Item.content_hash)).where(
    col(Item.content_hash).in_(bindparam("values", expanding=True)),
    col(Item.external_id).is_(None),
    col(Item.canonical_url).is_(None),
)


def existing_items(session: Session, incoming: list[Incoming]) -> list[int | None]:
    """The stored item each report is, by source id, then canonical URL, then (for a report
    with neither) content: a query per source and two more for a whole batch."""
    articles = [(one.source_id, one.article) for one in incoming]
    ids: dict[int, set[str]] = {}  # by source: SQLite scans a whole index for a row-value IN
    for source, a in articles:
        if a.external_id:
            ids.setdefault(source, set()).add(a.external_id)
    urls = {a.canonical_url for _, a in articles if a.canonical_url}
    hashes = {a.content_hash for _, a in articles if not (a.external_id or a.canonical_url)}
    connection = session.connection()
    by_id = {
        (source, external): item_id
        for source, externals in ids.items()
        for chunk in _chunks(sorted(externals))
        for item_id, external in connection.execute(
            _BY_EXTERNAL_ID, {"source": source, "values": chunk}
        )
    }
    by_url = {
        url: item_id
        for chunk in _chunks(sorted(urls))
        for item_id, url in connection.execute(_BY_URL, {"values": chunk})
    }
    by_hash = {
        content_hash: item_id
        for chunk in _chunks(sorted(hashes))
        for item_id, content_hash in connection.execute(_BY_CONTENT, {"values": chunk})
    }
    return [
        by_id.get((source, a.external_id))
        or by_url.get(a.canonical_url)
        or (None if a.external_id or a.canonical_url else by_hash.get(a.content_hash))
        for source, a in articles
    ]


def stored_or_repeated(session: Session, incoming: list[Incoming]) -> list[bool]:
    """Per report: stored already, or the same as an earlier one in ``incoming`` (by the
    keys ``existing_items`` looks up)."""
    seen: set[tuple[Any, ...]] = set()
    found = []
    for one, item_id in zip(incoming, existing_items(session, incoming), strict=True):
        article = one.article
        keys: set[tuple[Any, ...]] = set()
        if article.external_id:
            keys.add(("id", one.source_id, article.external_id))
        if article.canonical_url:
            keys.add(("url", article.canonical_url))
        keys = keys or {("text", article.content_hash)}
        found.append(item_id is not None or not seen.isdisjoint(keys))
        seen |= keys
    return found


def _chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def upsert_anchors(session: Session, story_id: int, anchors: set[str], at: datetime) -> None:
    """Add a story's anchors to the index, keeping the latest time per anchor."""
    if anchors:
        rows = [{"story_id": story_id, "anchor": a, "at": at} for a in sorted(anchors)]
        session.connection().execute(_anchor_upsert(dialect_of(session)), rows)


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


_STORY = _table("story")
_NEW_STORY = _STORY.insert().returning(_STORY.c.id)
_JOIN_STORY = (
    _STORY.update()
    .where(_STORY.c.id == bindparam("story"), _STORY.c.merged_into.is_(None))
    .values(item_count=_STORY.c.item_count + 1, updated_at=bindparam("now"))
    .returning(_STORY.c.id, _STORY.c.muted)
)
_published = bindparam("published", type_=_STORY.c.first_published.type)
_JOIN_STORY_DATED = _JOIN_STORY.values(
    first_published=case(
        (
            or_(_STORY.c.first_published.is_(None), _STORY.c.first_published > _published),
            _published,
        ),
        else_=_STORY.c.first_published,
    ),
    last_published=case(
        (
            or_(_STORY.c.last_published.is_(None), _STORY.c.last_published < _published),
            _published,
        ),
        else_=_STORY.c.last_published,
    ),
)
_ITEM = _table("item")
_NEW_ITEM = _ITEM.insert().returning(_ITEM.c.id)


@cache
def _anchor_upsert(dialect: str) -> Any:
    statement = dialect_insert(dialect)(_table("storyanchor"))
    return statement.on_conflict_do_update(
        index_elements=["story_id", "anchor"],
        set_={"at": statement.excluded.at},
        where=col(StoryAnchor.at) < statement.excluded.at,
    )
