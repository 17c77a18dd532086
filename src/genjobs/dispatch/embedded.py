"""The single-machine dispatcher: the queue is the tasks table itself, and the wake-up
is an asyncio event shared with the embedded runner in the same process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from functools import partial
from typing import Any

from sqlalchemy import Connection

from genjobs.dispatch.events import TaskEvents
from genjobs.store import tasks
from genjobs.store.database import Database
from genjobs.store.group_commit import GroupCommit

# A hand-off rides in the transaction of the next write of this process (a createTask, a
# task's outcome), so under steady traffic it costs no commit of its own; when no write
# comes within this window it commits alone.
FLUSH_WINDOW_S = 0.002
log = logging.getLogger(__name__)


class EmbeddedDispatcher:
    """Hand-offs are batched: the tasks submitted until the next write (or for at most
    FLUSH_WINDOW_S) move to ``queuing`` in one update. A task whose hand-off is lost to a
    crash stays ``waiting`` and the runner's sweeper requeues it.
    """

    def __init__(
        self,
        db: Database,
        writes: GroupCommit,
        events: TaskEvents,
        flush_window_s: float = FLUSH_WINDOW_S,
    ) -> None:
        self._db = db
        self._flush_window_s = flush_window_s
        self._writes = writes
        self._events = events
        # (task id, model); taking the batch replaces the list, so a window's timer, which
        # holds the list it was armed for, knows whether its batch is gone.
        self._pending: list[tuple[str, str]] = []

    async def submit(self, task_id: str, model: str) -> None:
        self._pending.append((task_id, model))
        if len(self._pending) == 1:
            rides = self._writes.ride(self._hand_off)
            # Without group commits (PostgreSQL) the window's batch commits on its own.
            loop = asyncio.get_running_loop()
            if rides:
                loop.call_later(self._flush_window_s, self._commit_if_waiting, self._pending)
            else:
                loop.call_later(self._flush_window_s, self._commit_alone)

    def _commit_if_waiting(self, batch: list[tuple[str, str]]) -> None:
        # Only when no write came along to carry this window's batch: under steady
        # traffic a later batch is pending by now, and it has a timer of its own.
        if batch is self._pending:
            self._in_background(self._writes.run(self._hand_off))

    def _hand_off(self, conn: Connection) -> None:
        """The rider: on the event loop's thread, in a group commit's transaction."""
        batch = self._take()
        if batch:  # else already carried by an earlier write
            tasks.enqueue_many(conn, [task_id for task_id, _ in batch])
            # Waking before the commit is safe: the commit happens in this same callback,
            # before anyone woken can run.
            self._notify(batch)

    def _commit_alone(self) -> None:
        batch = self._take()

        async def enqueue() -> None:
            await self._db.run(partial(tasks.enqueue_many, ids=[task_id for task_id, _ in batch]))
            self._notify(batch)

        self._in_background(enqueue())

    def _take(self) -> list[tuple[str, str]]:
        batch, self._pending = self._pending, []
        return batch

    def _notify(self, batch: list[tuple[str, str]]) -> None:
        for task_id, _ in batch:
            self._events.changed(task_id)
        self._events.work_arrived({model for _, model in batch})

    @staticmethod
    def _in_background(work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        _background.add(task)  # a reference, so the task is not collected mid-way
        task.add_done_callback(_finished)

    async def wait_for_work(self, timeout_s: float) -> set[str] | None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that coincides with the event, which left the runner unstoppable at shutdown.
        try:
            async with asyncio.timeout(timeout_s):
                await self._events.work_available.wait()
        except TimeoutError:
            # Other processes (API nodes, `genjobs worker`s) queue work without telling
            # this one: after a quiet while, any model may have some.
            self._events.take_work()
            return None
        return self._events.take_work()


_background: set[asyncio.Task[None]] = set()


def _finished(task: asyncio.Task[None]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("handing tasks to the queue failed", exc_info=task.exception())
