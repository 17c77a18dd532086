"""The single-machine dispatcher: the queue is the tasks table itself, and the wake-up
is an asyncio event shared with the embedded runner in the same process."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

from genjobs.dispatch.events import TaskEvents
from genjobs.store import lifecycle
from genjobs.store.database import Database


class EmbeddedDispatcher:
    def __init__(self, db: Database, events: TaskEvents) -> None:
        self._db = db
        self._events = events

    async def submit(self, task_id: str) -> None:
        if await self._db.run(partial(lifecycle.enqueue, task_id=task_id)):
            self._events.changed(task_id)
            self._events.work_available.set()

    async def wait_for_work(self, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._events.work_available.wait(), timeout_s)
        self._events.work_available.clear()
