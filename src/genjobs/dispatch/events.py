"""In-process notifications: "task X changed" (for SSE streams and cancel requests) and
"there is work" (for the runner). Changes made by other processes are picked up by the
listeners' periodic re-reads, so these are only ever wake-ups, never data."""

from __future__ import annotations

import asyncio
from collections import defaultdict


class TaskEvents:
    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        self.work_available = asyncio.Event()
        self.cancel_requested: asyncio.Queue[str] = asyncio.Queue()
        self.outbox = asyncio.Event()

    def outbox_written(self) -> None:
        self.outbox.set()

    def changed(self, task_id: str) -> None:
        for event in self._watchers.get(task_id, ()):
            event.set()

    def watch(self, task_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._watchers[task_id].add(event)
        return event

    def unwatch(self, task_id: str, event: asyncio.Event) -> None:
        watchers = self._watchers.get(task_id)
        if watchers is not None:
            watchers.discard(event)
            if not watchers:
                del self._watchers[task_id]
