"""Serialize one read-then-write decision among workers without locking the whole database.

Story assignment reads (is there a story for this event yet?) and then writes (join it, or
start one). Two workers deciding at the same moment for two reports of one event would each
see no story and start two. The decision is therefore made under a lock on the report's
neighbourhood, taken before the first read of the transaction and held until it ends.

Dialect switch:
- PostgreSQL: transaction-level advisory locks (``pg_advisory_xact_lock``), one per key, taken
  in one sorted order so two transactions never wait on each other in a cycle. Reports that
  share no key proceed in parallel; the locks vanish at commit, rollback or disconnect.
- SQLite: the database file is SQLite's only lock, and it has one writer at a time. The
  driver starts a transaction only at the first write, so the reads before it could see a
  state another process changes before we write; ``BEGIN IMMEDIATE`` takes the write lock
  first, so the decision's reads and writes see one state. One process pays nothing for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Integer, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

# First half of the two-int advisory key, so our locks never collide with anyone else's.
ADVISORY_NAMESPACE = 0x6D6F6E  # "mon"

_ADVISORY_LOCKS = text(
    "SELECT pg_advisory_xact_lock(:namespace, k)"
    " FROM (SELECT DISTINCT unnest(:keys) AS k ORDER BY k) AS sorted_keys"
).bindparams(bindparam("keys", type_=ARRAY(Integer)))


def key_id(key: str) -> int:
    """A stable signed 32-bit id for a key, the same in every process."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), signed=True)


def lock_keys(session: Session, keys: Iterable[str]) -> None:
    """Hold ``keys`` until the session's transaction ends; waits while another holds one."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        ids = sorted({key_id(k) for k in keys})
        if ids:
            session.execute(_ADVISORY_LOCKS, {"namespace": ADVISORY_NAMESPACE, "keys": ids})
    elif dialect == "sqlite":
        begin_write(session)


def begin_write(session: Session) -> None:
    """SQLite: take the database's write lock now, unless this transaction already has it."""
    dbapi_connection = session.connection().connection.dbapi_connection
    assert dbapi_connection is not None
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")
