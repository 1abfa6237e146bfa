"""The pipeline every entry point drives: article → item → story → watchlist match → outbox.

``Pipeline.ingest`` is what backfill, the daemon and the tests call. Each report is stored in
one transaction with its story decision, matches and alerts: after a crash a report is either
wholly there or not there at all, and re-running stores it exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.alert.outbox import record_alerts
from monitor.config import StorySettings
from monitor.normalize.article import Article
from monitor.store.models import Item, Match, Story, StoryAnchor, StoryLink, utcnow
from monitor.story.detector import Report, StoryDetector, build_report, name_anchors
from monitor.story.embedding import Embedder, Vector, embedding_text, to_bytes
from monitor.story.related import related_stories
from monitor.watchlist.matcher import Matcher, evaluate
from monitor.watchlist.schema import Watchlist

log = logging.getLogger(__name__)
_EMBED_BATCH = 32


@dataclass(slots=True)
class Stats:
    read: int = 0
    new: int = 0
    duplicates: int = 0
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
    """An article and the source it came from."""

    source_id: int
    article: Article


def publication_order(incoming: Incoming) -> tuple[datetime, int]:
    """Oldest first, so a backfill decides as live polling would have; undated reports last."""
    published = incoming.article.published
    return (published or datetime.max.replace(tzinfo=UTC), 0)


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

    def set_watchlists(self, watchlists: list[Watchlist]) -> None:
        """Swap in a new watchlist version; takes effect on the next report."""
        self.watchlists = watchlists
        self.matcher = Matcher(watchlists)

    def ingest(
        self, incoming: list[Incoming], progress: Callable[[int], None] | None = None
    ) -> Stats:
        """Store, cluster, match and queue alerts for reports, in publication order."""
        stats = Stats(read=len(incoming))
        ordered = sorted(incoming, key=publication_order)
        for start in range(0, len(ordered), _EMBED_BATCH):
            batch = ordered[start : start + _EMBED_BATCH]
            fresh = [i for i in batch if not self._known(i)]
            stats.duplicates += len(batch) - len(fresh)
            vectors = self._embed([i.article for i in fresh])
            for one, vector in zip(fresh, vectors, strict=True):
                stats.add(self._store(one, vector))
            if progress:
                progress(len(batch))
        return stats

    def _embed(self, articles: list[Article]) -> list[Vector | None]:
        if self.embedder is None or not articles:
            return [None] * len(articles)
        matrix = self.embedder.encode([embedding_text(a.title, a.text) for a in articles])
        return list(matrix)

    def _known(self, incoming: Incoming) -> bool:
        with Session(self.engine) as session:
            return find_existing(session, incoming) is not None

    def _store(self, incoming: Incoming, vector: Vector | None) -> Stats:
        """One report, one transaction."""
        article, now = incoming.article, utcnow()
        stats = Stats(new=1)
        with Session(self.engine) as session:
            if find_existing(session, incoming) is not None:
                return Stats(duplicates=1)
            report = build_report(article, vector, now)
            decision = self.detector.decide(session, report)
            story = self._story_for(session, decision.story_id, article)
            stats.stories = int(decision.story_id is None)
            assert story.id is not None
            item = Item(
                source_id=incoming.source_id,
                external_id=article.external_id,
                canonical_url=article.canonical_url,
                content_hash=article.content_hash,
                url=article.url,
                title=article.title,
                text=article.text,
                language=article.language,
                outlet=article.outlet,
                published=article.published,
                published_kind=article.published_kind,
                first_seen=now,
                story_id=story.id,
                embedding=to_bytes(vector) if vector is not None else None,
                anchors=" ".join(sorted(report.anchors)),
            )
            session.add(item)
            session.flush()
            assert item.id is not None
            item_id, story_id = item.id, story.id  # plain ints: the rows expire on commit
            upsert_anchors(session, story_id, name_anchors(report.anchors), report.latest)
            if decision.story_id is None:
                self._link_related(session, story_id, report)
            stats.matches, stats.alerts = self._match(session, story_id, item_id, article)
            try:
                session.commit()
            except IntegrityError:  # another worker stored the same report first
                session.rollback()
                return Stats(duplicates=1)
            self.detector.remember(item_id, story_id, report)
        log.debug("item %s → story %s (%s)", item_id, story_id, decision.reason)
        return stats

    def _story_for(self, session: Session, story_id: int | None, article: Article) -> Story:
        story = session.get(Story, story_id) if story_id is not None else None
        if story is None:
            story = Story(
                title=article.title,
                first_published=article.published,
                last_published=article.published,
            )
        elif article.published is not None:
            story.first_published = min(filter(None, (story.first_published, article.published)))
            story.last_published = max(filter(None, (story.last_published, article.published)))
        story.item_count += 1
        story.updated_at = utcnow()
        session.add(story)
        session.flush()
        return story

    def _link_related(self, session: Session, story_id: int, report: Report) -> None:
        for related in related_stories(session, story_id, report, self.detector):
            session.add(
                StoryLink(
                    story_id=story_id,
                    related_id=related.story_id,
                    score=related.score,
                    reason=related.reason,
                )
            )

    def _match(
        self, session: Session, story_id: int, item_id: int, article: Article
    ) -> tuple[int, int]:
        hits = self.matcher.find(article.full_text)
        rule_matches = evaluate(self.watchlists, hits)
        for rule_match in rule_matches:
            for hit in rule_match.hits:
                session.add(
                    Match(
                        story_id=story_id,
                        item_id=item_id,
                        watchlist=hit.watchlist,
                        rule=rule_match.rule.name,
                        kind=hit.kind,
                        name=hit.name,
                        term=hit.term,
                        method=hit.method,
                        score=hit.score,
                        span_start=hit.start,
                        span_end=hit.end,
                        snippet=hit.snippet,
                    )
                )
        alerts = record_alerts(session, story_id, rule_matches, self.deliver)
        return sum(len(m.hits) for m in rule_matches), len(alerts)


def find_existing(session: Session, incoming: Incoming) -> int | None:
    """The stored item this report is, by source id, then canonical URL, then content."""
    article = incoming.article
    if article.external_id:
        found = session.exec(
            select(Item.id).where(
                Item.source_id == incoming.source_id, Item.external_id == article.external_id
            )
        ).first()
        if found is not None:
            return found
    if article.canonical_url:
        found = session.exec(
            select(Item.id).where(Item.canonical_url == article.canonical_url)
        ).first()
        if found is not None:
            return found
    if not article.external_id and not article.canonical_url:
        return session.exec(
            select(Item.id).where(
                Item.content_hash == article.content_hash,
                col(Item.external_id).is_(None),
                col(Item.canonical_url).is_(None),
            )
        ).first()
    return None


def upsert_anchors(session: Session, story_id: int, anchors: set[str], at: datetime) -> None:
    """Add a story's anchors to the index, keeping the latest time per anchor."""
    if not anchors:
        return
    rows = [{"story_id": story_id, "anchor": a, "at": at} for a in sorted(anchors)]
    # Dialect switch: both engines have INSERT … ON CONFLICT, under different constructs.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(StoryAnchor).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["story_id", "anchor"],
        set_={"at": statement.excluded.at},
        where=col(StoryAnchor.at) < statement.excluded.at,
    )
    session.execute(statement)
