"""In-process notifications: "task X changed" (for SSE streams and cancel requests) and
"there is work for these models" (for the runner). Changes made by other processes are
picked up by the listeners' periodic re-reads, so these are only ever wake-ups, never
data."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable


class TaskEvents:
    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._any_watchers: set[asyncio.Event] = set()  # the dashboard's change feeds
        self.work_available = asyncio.Event()
        self._work_for: set[str] | None = set()  # None: any model
        self.cancel_requested: asyncio.Queue[str] = asyncio.Queue()
        self.outbox = asyncio.Event()

    def work_arrived(self, models: Iterable[str] | None = None) -> None:
        """Tasks of ``models`` (None: of any model) were queued."""
        if models is None:
            self._work_for = None
        elif self._work_for is not None:
            self._work_for.update(models)
        self.work_available.set()

    def take_work(self) -> set[str] | None:
        """The models work arrived for since the last call (None: any model)."""
        models, self._work_for = self._work_for, set()
        self.work_available.clear()
        return models

    def outbox_written(self) -> None:
        self.outbox.set()

    def changed(self, task_id: str) -> None:
        for event in self._watchers.get(task_id, ()):
            event.set()
        for event in self._any_watchers:
            event.set()

    def watch_all(self) -> asyncio.Event:
        """An event set whenever any task changes (a change feed re-reads then)."""
        event = asyncio.Event()
        self._any_watchers.add(event)
        return event

    def unwatch_all(self, event: asyncio.Event) -> None:
        self._any_watchers.discard(event)

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
