"""Leases: a worker claims rows (due sources, pending alerts) so no other worker takes them.

A claim is its own short transaction: rows that match the caller's query and hold no live
lease are leased to ``owner`` until now + ``lease``, committed, and returned. The worker then
does the slow part (a fetch, a delivery) outside any transaction. If it dies, the lease lapses
and another worker's next claim takes the rows, so nothing waits longer than the lease.

Claimable models carry two columns: ``lease_owner`` and ``lease_until``.

Dialect switch: PostgreSQL locks the chosen rows with ``FOR UPDATE SKIP LOCKED``, so
concurrent claimers each take different rows without waiting on one another; after the row
lock PostgreSQL re-checks the lease condition on the row's newest version, so a row leased by a
claim that just committed is not taken again. SQLite takes its single write lock first
(``BEGIN IMMEDIATE``), which makes claims one at a time.

Lease times are the workers' clocks: keep them in sync (NTP) to well under the lease length.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import Session, col, or_
from sqlmodel.sql.expression import SelectOfScalar

from monitor.store.locks import begin_write
from monitor.store.models import utcnow

T = TypeVar("T")


def claim(
    session: Session,
    query: SelectOfScalar[T],
    owner: str,
    lease: timedelta,
    limit: int = 100,
    now: datetime | None = None,
) -> Sequence[T]:
    """Lease up to ``limit`` free rows of ``query`` (``select(Model).where(…)``) to ``owner``.

    ``now`` is the caller's clock (the daemon's, in tests a fake one); default: the real one.
    """
    model: Any = query.column_descriptions[0]["entity"]
    now = now or utcnow()
    free = query.where(or_(col(model.lease_until).is_(None), col(model.lease_until) < now))
    free = free.limit(limit)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        free = free.with_for_update(skip_locked=True)
    elif dialect == "sqlite":
        begin_write(session)
    rows = session.exec(free).all()
    for row in rows:
        setattr(row, "lease_owner", owner)  # noqa: B010  (any claimable model)
        setattr(row, "lease_until", now + lease)  # noqa: B010
        session.add(row)
    session.commit()
    return rows
