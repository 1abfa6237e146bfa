"""Which sources are due, and which worker polls each: a lease in the database.

Several workers may share one database: a worker claims a due source by setting
``lease_owner``/``lease_until``; nobody else polls it until the lease ends (it is released
after the poll, or expires if the worker died). The schedule lives in ``next_poll_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Engine, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.sources.config import SourceConfig
from monitor.store.models import Source


@dataclass(frozen=True, slots=True)
class Claim:
    """A source this worker may poll now, with what the poll needs from its state."""

    id: int
    key: str
    url: str  # where to fetch: the configured URL, or where it permanently moved
    etag: str | None
    last_modified: str | None
    last_success_at: datetime | None
    polls: int


def sync_sources(engine: Engine, configs: list[SourceConfig]) -> dict[str, int]:
    """Create or update the state rows of configured sources; disable the ones no longer listed.

    Returns the source id of each configured URL. Workers starting together create the same
    rows at once: the loser of that race finds them committed when it tries again.
    """
    try:
        return _sync_sources(engine, configs)
    except IntegrityError:
        return _sync_sources(engine, configs)


def _sync_sources(engine: Engine, configs: list[SourceConfig]) -> dict[str, int]:
    ids: dict[str, int] = {}
    with Session(engine) as session:
        rows = {s.key: s for s in session.exec(select(Source)).all()}
        for config in configs:
            source = rows.get(config.url) or Source(key=config.url, kind=config.kind, name="")
            source.kind, source.url = config.kind, config.url
            source.name = config.display_name
            source.language_hint = config.language
            source.enabled = config.enabled
            session.add(source)
        listed = {c.url for c in configs}
        for key, source in rows.items():
            if key not in listed and source.kind in ("feed", "page") and source.enabled:
                source.enabled = False  # removed from the files: kept, with its history
                session.add(source)
        session.commit()
        for source in session.exec(select(Source).where(col(Source.key).in_(listed))).all():
            assert source.id is not None
            ids[source.key] = source.id
    return ids


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [
        col(Source.enabled).is_(True),
        col(Source.kind).in_(["feed", "page"]),
        or_(col(Source.next_poll_at).is_(None), col(Source.next_poll_at) <= now),
        or_(col(Source.lease_until).is_(None), col(Source.lease_until) < now),
    ]


def _claim(source: Source) -> Claim:
    assert source.id is not None and source.url is not None
    return Claim(
        source.id,
        source.key,
        source.redirect_url or source.url,
        source.etag,
        source.last_modified,
        source.last_success_at,
        source.polls,
    )


def claim_due(
    engine: Engine, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Claim]:
    """Lease up to ``limit`` due sources to ``owner``, most overdue first."""
    if limit <= 0:
        return []
    query = (
        select(Source)
        .where(*_due(now))
        .order_by(col(Source.next_poll_at).is_not(None), col(Source.next_poll_at))
        .limit(limit)
    )
    with Session(engine) as session:
        # Dialect switch: PostgreSQL locks the rows it hands out and skips rows another
        # worker is claiming; SQLite has one writer at a time, so a conditional UPDATE per
        # row (which re-checks the lease) is enough.
        if engine.dialect.name == "postgresql":
            sources = list(session.exec(query.with_for_update(skip_locked=True)).all())
            for source in sources:
                source.lease_owner, source.lease_until = owner, now + lease
                session.add(source)
            session.commit()
            return [_claim(s) for s in sources]
        claimed = []
        for source in session.exec(query).all():
            result = cast(
                CursorResult[Any],
                session.execute(
                    update(Source)
                    .where(col(Source.id) == source.id, *_due(now))
                    .values(lease_owner=owner, lease_until=now + lease)
                ),
            )
            if result.rowcount == 1:
                claimed.append(_claim(source))
        session.commit()
        return claimed


def release(source: Source) -> None:
    source.lease_owner = source.lease_until = None


def release_all(engine: Engine, owner: str) -> None:
    """Give back this worker's leases (a clean stop), so others need not wait them out."""
    with Session(engine) as session:
        session.execute(
            update(Source)
            .where(col(Source.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )
        session.commit()
