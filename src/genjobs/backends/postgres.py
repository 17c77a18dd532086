"""PostgreSQL, many machines: every operation is its own transaction on a worker thread
(the server commits concurrent transactions in parallel and groups their WAL flushes),
claims take rows with ``FOR UPDATE SKIP LOCKED`` (store.tasks.claim) so runners on other
machines skip each other's, and the claim loop is woken by LISTEN/NOTIFY
(dispatch/notify.py) with the wait_for_work timeout as the polling fallback.
"""

from __future__ import annotations

import asyncio

from genjobs.backends.sql import FLUSH_WINDOW_S, SqlBackend
from genjobs.dispatch.events import TaskEvents
from genjobs.dispatch.notify import listen_for_work
from genjobs.store.database import Database
from genjobs.store.lifecycle import OutboxPolicy


class PostgresBackend(SqlBackend):
    def __init__(
        self,
        db: Database,
        events: TaskEvents,
        policy: OutboxPolicy,
        *,
        listen: bool = True,
        flush_window_s: float = FLUSH_WINDOW_S,
    ) -> None:
        assert not db.is_sqlite, db.engine.url
        super().__init__(db, events, policy, flush_window_s)
        self._listen = listen  # off behind a pooler that cannot LISTEN: then we poll

    def start_wakeups(self) -> asyncio.Task[None] | None:
        if not self._listen:
            return None
        url = self.db.engine.url.render_as_string(hide_password=False)
        return asyncio.create_task(listen_for_work(url, self.events), name="work-listener")
