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
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from monitor.alert.outbox import record_alerts
from monitor.config import StorySettings
from monitor.normalize.article import Article
from monitor.store.locks import lock_keys
from monitor.store.models import (
    Item,
    ItemVersion,
    Match,
    Source,
    Story,
    StoryAnchor,
    StoryLink,
    utcnow,
)
from monitor.store.upsert import dialect_insert
from monitor.story.decisions import live_story
from monitor.story.detector import Report, StoryDetector, build_report, name_anchors
from monitor.story.embedding import Embedder, Vector, embedding_text, to_bytes
from monitor.story.related import related_stories
from monitor.watchlist.matcher import Matcher, ReportFacts, evaluate
from monitor.watchlist.schema import Watchlist

log = logging.getLogger(__name__)
_EMBED_BATCH = 32


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
            fresh = []
            for one in batch:
                known = self._known(one)
                if known is None:
                    fresh.append(one)
                elif known.source_id == one.source_id and self._correct(known.id, one):
                    stats.corrections += 1
                else:
                    stats.duplicates += 1
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

    def _known(self, incoming: Incoming) -> Item | None:
        with Session(self.engine) as session:
            item_id = find_existing(session, incoming)
            return session.get(Item, item_id) if item_id is not None else None

    def _correct(self, item_id: int | None, incoming: Incoming) -> bool:
        """A changed headline or text updates the item, keeping the earlier version.

        It is matched again; record_alerts adds an alert only for a rule the story did not
        match before, so a correction alerts again only when it makes a new match.
        """
        article = incoming.article
        with Session(self.engine) as session:
            item = session.get(Item, item_id)
            if item is None or item.content_hash == article.content_hash or item.story_id is None:
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
            self._match(session, item.story_id, item, incoming, follow=False)
            session.commit()
        log.info("item %s corrected by its source", item_id)
        return True

    def _store(self, incoming: Incoming, vector: Vector | None) -> Stats:
        """One report, one transaction, its story decision serialized with its neighbours'."""
        article, now = incoming.article, utcnow()
        stats = Stats(new=1)
        report = build_report(article, vector, now)
        with Session(self.engine) as session:
            lock_keys(session, neighbourhood(report))
            if find_existing(session, incoming) is not None:
                return Stats(duplicates=1)
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
            try:
                session.flush()
            except IntegrityError:  # a worker stored it between our check and now (another
                session.rollback()  # neighbourhood: same URL, other text)
                return Stats(duplicates=1)
            assert item.id is not None
            item_id, story_id = item.id, story.id  # plain ints: the rows expire on commit
            upsert_anchors(session, story_id, name_anchors(report.anchors), report.latest)
            if decision.story_id is None:
                self._link_related(session, story_id, report)
            stats.matches, stats.alerts = self._match(session, story_id, item, incoming)
            try:
                session.commit()
            except IntegrityError:  # another worker stored the same report first
                session.rollback()
                return Stats(duplicates=1)
            self.detector.remember(item_id, story_id, report)
        log.debug("item %s → story %s (%s)", item_id, story_id, decision.reason)
        return stats

    def _story_for(self, session: Session, story_id: int | None, article: Article) -> Story:
        # Analyst decisions (issue 8): a report for a merged story joins the one it went into.
        story = live_story(session, story_id) if story_id is not None else None
        if story is not None:
            # FOR UPDATE: workers adding reports to one story from different neighbourhoods
            # (no shared name) take turns on its counters instead of losing an update.
            session.refresh(story, with_for_update=True)
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
        self,
        session: Session,
        story_id: int,
        item: Item,
        incoming: Incoming,
        follow: bool = True,
    ) -> tuple[int, int]:
        assert item.id is not None
        item_id, article = item.id, incoming.article
        source = session.get(Source, item.source_id)
        facts = ReportFacts.of(
            article.language,
            article.published,
            item.first_seen,
            article.outlet,
            article.url,
            *((source.name, source.key, source.url) if source else ()),
        )
        matcher = self.matcher  # one version throughout, even if a reload swaps it meanwhile
        hits = matcher.find(article.full_text)
        rule_matches = evaluate(matcher.watchlists, hits, facts)
        known = {
            (m.watchlist, m.rule, m.kind, m.name, m.span_start)
            for m in session.exec(select(Match).where(Match.item_id == item_id)).all()
        }
        for rule_match in rule_matches:
            for hit in rule_match.hits:
                key = (hit.watchlist, rule_match.rule.name, hit.kind, hit.name, hit.start)
                if key in known:  # a correction that kept this hit
                    continue
                known.add(key)
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
        # Analyst decisions (issue 8): a muted story keeps its matches but raises no alerts.
        story = session.get(Story, story_id)
        if story is not None and story.muted:
            return sum(len(m.hits) for m in rule_matches), 0
        alerts = record_alerts(
            session,
            story_id,
            item_id,
            rule_matches,
            self.deliver and incoming.alert,
            quiet=not incoming.alert,
            follow=follow,
        )
        return sum(len(m.hits) for m in rule_matches), len(alerts)


def neighbourhood(report: Report) -> list[str]:
    """The lock keys of a report's story decision: its names, which any report it could join
    shares (anchors are language-independent). Nameless reports share one key: they are few."""
    names = name_anchors(report.anchors)
    return sorted(names) if names else ["story:nameless"]


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
    statement = dialect_insert(session)(SQLModel.metadata.tables["storyanchor"])
    statement = statement.on_conflict_do_update(
        index_elements=["story_id", "anchor"],
        set_={"at": statement.excluded.at},
        where=col(StoryAnchor.at) < statement.excluded.at,
    )
    session.connection().execute(statement, rows)
