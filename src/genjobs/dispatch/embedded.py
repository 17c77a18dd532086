"""The single-machine dispatcher: the queue is the tasks table itself, and the wake-up
is an asyncio event shared with the embedded runner in the same process."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

from genjobs.dispatch.events import TaskEvents
from genjobs.store import tasks
from genjobs.store.database import Database


class EmbeddedDispatcher:
    """Hand-offs are batched: tasks submitted in the same turn of the event loop move to
    ``queuing`` in one transaction (under load, one write instead of hundreds). A task
    whose batch is lost to a crash stays ``waiting`` and the runner's sweeper requeues it.
    """

    def __init__(self, db: Database, events: TaskEvents) -> None:
        self._db = db
        self._events = events
        self._pending: list[str] = []
        self._flushing: asyncio.Task[None] | None = None

    async def submit(self, task_id: str) -> None:
        self._pending.append(task_id)
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # one turn of the loop: let concurrent requests join
        batch, self._pending, self._flushing = self._pending, [], None
        await self._db.run(partial(tasks.enqueue_many, ids=batch))
        for task_id in batch:
            self._events.changed(task_id)
        self._events.work_available.set()

    async def wait_for_work(self, timeout_s: float) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that coincides with the event, which left the runner unstoppable at shutdown.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._events.work_available.wait()
        self._events.work_available.clear()
