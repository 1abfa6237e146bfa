"""Worker heartbeats: each ``monitor run`` process says it is alive, for ``monitor status``.

Liveness here is for operators only. Correctness never depends on it: a dead worker's source
and alert leases lapse by their own expiry (monitor.store.claims).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from monitor.store.models import Worker, utcnow

# A worker should beat at least every STALE_AFTER / 3; status calls it dead after this.
STALE_AFTER = timedelta(seconds=60)
# Rows of workers gone this long are dropped by the next heartbeat of any worker.
FORGET_AFTER = timedelta(days=1)


def new_worker_id() -> str:
    """Unique per process, readable in ``monitor status``: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def heartbeat(engine: Engine, worker_id: str) -> None:
    """Record that ``worker_id`` is alive now; its first beat registers it."""
    now = utcnow()
    with Session(engine) as session:
        worker = session.get(Worker, worker_id)
        if worker is None:
            worker = Worker(id=worker_id, host=socket.gethostname(), pid=os.getpid(), started=now)
        worker.last_seen = now
        session.add(worker)
        session.execute(delete(Worker).where(col(Worker.last_seen) < now - FORGET_AFTER))
        session.commit()


def retire(engine: Engine, worker_id: str) -> None:
    """A clean shutdown: the worker leaves the status list at once."""
    with Session(engine) as session:
        session.execute(delete(Worker).where(col(Worker.id) == worker_id))
        session.commit()
