"""SQLite, one machine: small writes share commits, hand-offs ride along, wake-ups stay
in the process.

The creates, claims and outcomes that arrive in the same turn of the event loop share one
transaction and commit (store.group_commit), run on the event loop's thread on the
connection the Database keeps for it (store.database; its WAL checkpointer keeps the WAL
short from a thread of its own). A hand-off to the queue rides in the next of those
commits, or commits alone after FLUSH_WINDOW_S. Only this process writes, so the claim
loop is woken by TaskEvents at once, with no polling of other processes' work but the
wait_for_work timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from genjobs.backends.sql import FLUSH_WINDOW_S, SqlBackend
from genjobs.dispatch.events import TaskEvents
from genjobs.store.database import Database
from genjobs.store.group_commit import GroupCommit
from genjobs.store.lifecycle import OutboxPolicy

T = TypeVar("T")


class SqliteBackend(SqlBackend):
    def __init__(
        self,
        db: Database,
        events: TaskEvents,
        policy: OutboxPolicy,
        flush_window_s: float = FLUSH_WINDOW_S,
    ) -> None:
        assert db.is_sqlite, db.engine.url
        super().__init__(db, events, policy, flush_window_s)
        # One group commit for every writer of this process: a task's outcome that arrives
        # in the same turn of the loop as a createTask shares its commit.
        self.writes = GroupCommit(db)

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        return await self.writes.run(fn)

    def _ride(self, fn: Callable[[Connection], None]) -> bool:
        self.writes.ride(fn)
        return True
