"""An in-memory task backend for fast unit tests of the runner's parts: the SQLite backend
(group commit, riders, hand-off batching, TaskEvents wake-ups) on a private, migrated
SQLite ``:memory:`` database, so it behaves exactly as SQLite does, with nothing on disk
and no WAL checkpointer. One process, one event loop; gone when closed."""

from __future__ import annotations

from genjobs.backends.sql import FLUSH_WINDOW_S
from genjobs.backends.sqlite import SqliteBackend
from genjobs.dispatch.events import TaskEvents
from genjobs.store.database import MEMORY_URL, Database
from genjobs.store.lifecycle import OutboxPolicy


class MemoryBackend(SqliteBackend):
    def __init__(
        self,
        events: TaskEvents,
        policy: OutboxPolicy,
        flush_window_s: float = FLUSH_WINDOW_S,
    ) -> None:
        db = Database(MEMORY_URL)
        db.migrate()
        super().__init__(db, events, policy, flush_window_s)

    def close(self) -> None:
        self.db.dispose()
