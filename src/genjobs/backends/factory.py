"""The task backend for a database."""

from __future__ import annotations

from genjobs.backends.base import TaskBackend
from genjobs.backends.postgres import PostgresBackend
from genjobs.backends.sqlite import SqliteBackend
from genjobs.dispatch.events import TaskEvents
from genjobs.store.database import Database
from genjobs.store.lifecycle import OutboxPolicy


def open_backend(
    db: Database, events: TaskEvents, policy: OutboxPolicy, *, listen_for_work: bool = True
) -> TaskBackend:
    """SqliteBackend for a sqlite URL, PostgresBackend for a postgresql one."""
    if db.is_sqlite:
        return SqliteBackend(db, events, policy)
    if db.engine.dialect.name == "postgresql":
        return PostgresBackend(db, events, policy, listen=listen_for_work)
    raise ValueError(f"no task backend for {db.engine.dialect.name} databases")
