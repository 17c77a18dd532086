"""The tasks this runner holds: claimed, not yet finished.

Every claimed task is entered here before the claim's caller awaits anything, and leaves
only once its outcome is written (or abandoned), so the lease keeper renews every lease
we hold, the sweeper never takes a task that is ours, and a shutdown hands every one of
them back to the queue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from genjobs.dispatch.events import TaskEvents
from genjobs.runtime.messages import CancelNoted, CancelTask
from genjobs.runtime.pool import WorkerProcess
from genjobs.store.rows import TaskRow


@dataclass(eq=False)
class RunningTask:
    row: TaskRow  # the task as claimed: its attempt is the lease we hold
    worker: WorkerProcess | None = None  # set once the task was sent to a process
    cancel_deadline: float | None = None  # monotonic; the model is killed after it
    lost: bool = False  # the lease was taken from us: stop without writing
    finishing: bool = False  # its outcome is being written: no lease to keep

    @property
    def task_id(self) -> str:
        return str(self.row["id"])


class RunningTasks:
    def __init__(self, events: TaskEvents, cancel_grace_s: float) -> None:
        self._events = events
        self._cancel_grace_s = cancel_grace_s
        self._tasks: dict[str, RunningTask] = {}

    def start(self, row: TaskRow) -> RunningTask:
        """Hold a just-claimed task; call it before any await after the claim."""
        running = self._tasks[row["id"]] = RunningTask(row)
        self._events.changed(row["id"])
        return running

    def end(self, task_id: str) -> None:
        del self._tasks[task_id]
        self._events.changed(task_id)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._tasks

    def __iter__(self) -> Iterator[RunningTask]:
        return iter(list(self._tasks.values()))

    def cancel(self, task_id: str) -> None:
        """Ask a task of ours to stop: the model is told and gets the grace period to end
        on its own, after which its process is killed. Repeats change nothing."""
        running = self._tasks.get(task_id)
        if running is None or running.cancel_deadline is not None:
            return
        running.cancel_deadline = time.monotonic() + self._cancel_grace_s
        if running.worker is not None:
            running.worker.send(CancelTask(task_id))
            running.worker.messages.put_nowait(CancelNoted())

    def abandon(self, task_id: str) -> bool:
        """Our lease of the task is gone (it lapsed and the task was retried or failed):
        stop its process and write nothing for it. False when it is not ours any more or
        its outcome is being written already."""
        running = self._tasks.get(task_id)
        if running is None or running.finishing:
            return False
        running.lost = True
        if running.worker is not None:
            running.worker.kill()
        return True
