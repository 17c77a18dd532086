"""The single-machine dispatcher: the queue is the tasks table itself, and the wake-up
is an asyncio event shared with the embedded runner in the same process."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

from genjobs.dispatch.events import TaskEvents
from genjobs.store import tasks
from genjobs.store.database import Database

# Hand-offs wait this long for company: one ``queuing`` write for all tasks created in
# the window. Under a steady stream of creates this saves a transaction (~100 us) per task
# at the price of up to 2 ms before a task reaches the queue.
FLUSH_WINDOW_S = 0.002
MAX_BATCH = 500


class EmbeddedDispatcher:
    """Hand-offs are batched: tasks submitted within FLUSH_WINDOW_S of each other move to
    ``queuing`` in one transaction. A task whose batch is lost to a crash stays
    ``waiting`` and the runner's sweeper requeues it.
    """

    def __init__(self, db: Database, events: TaskEvents) -> None:
        self._db = db
        self._events = events
        self._pending: list[tuple[str, str]] = []  # (task id, model)
        self._flushing: asyncio.Task[None] | None = None
        self._full = asyncio.Event()

    async def submit(self, task_id: str, model: str) -> None:
        self._pending.append((task_id, model))
        if self._flushing is None:
            self._full.clear()
            self._flushing = asyncio.create_task(self._flush())
        elif len(self._pending) >= MAX_BATCH:
            self._full.set()

    async def _flush(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_WINDOW_S):
                await self._full.wait()
        batch, self._pending, self._flushing = self._pending, [], None
        await self._db.run(partial(tasks.enqueue_many, ids=[task_id for task_id, _ in batch]))
        for task_id, _ in batch:
            self._events.changed(task_id)
        self._events.work_arrived({model for _, model in batch})

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
