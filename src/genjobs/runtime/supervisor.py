"""Supervising one run on a worker process: from sending the task to knowing its outcome.

Whatever the model does, the run ends with an ``Outcome`` and never outlives its limits:
a model that runs past its timeout, or past the cancel grace period once the task was
canceled, has its process killed. A canceled task fails as ``canceled`` even if the model
finished anyway (its files are then discarded by the outcome recorder), and a process
that dies fails only its task, with its exit code in the message.

Progress is written as it comes, at most every 0.25 s, with progress callbacks at most
every second (and always at 100 %): a chatty model costs a bounded number of writes.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import assert_never

from genjobs.backends.base import TaskBackend
from genjobs.core.states import FailCode
from genjobs.dispatch.events import TaskEvents
from genjobs.runtime.messages import (
    CancelNoted,
    CancelTask,
    Done,
    Failed,
    Progress,
    Ready,
    RunTask,
    SetupFailed,
    WorkerDied,
)
from genjobs.runtime.outcomes import Outcome
from genjobs.runtime.pool import WorkerProcess
from genjobs.runtime.running import RunningTask, RunningTasks
from genjobs.store.rows import TaskRow

PROGRESS_WRITE_EVERY_S = 0.25
PROGRESS_CALLBACK_EVERY_S = 1.0


class Supervisor:
    def __init__(
        self,
        *,
        backend: TaskBackend,
        events: TaskEvents,
        running: RunningTasks,
    ) -> None:
        self._backend = backend
        self._events = events
        self._running = running

    async def run(
        self, task: RunningTask, worker: WorkerProcess, *, deadline: float, timeout_s: float
    ) -> Outcome:
        """Run ``task`` on ``worker`` until it ends or ``deadline`` (monotonic) passes."""
        row = task.row
        task_id = task.task_id
        raw_input = json.loads(row["param"]).get("input", {})
        if row["cancel_requested"]:  # canceled before we claimed it: start its grace now
            self._running.cancel(task_id)
        task.worker = worker  # from here on a cancel goes straight to the process
        if not worker.send(RunTask(task_id, raw_input)):
            return Outcome.failed(FailCode.WORKER_CRASHED, "the worker process died")
        if task.cancel_deadline is not None:
            worker.send(CancelTask(task_id))
        progress = _ProgressWriter(self._backend, self._events, row)
        while True:
            limit = (
                deadline if task.cancel_deadline is None else min(deadline, task.cancel_deadline)
            )
            try:
                async with asyncio.timeout(max(0.0, limit - time.monotonic())):
                    message = await worker.messages.get()
            except TimeoutError:
                worker.kill()
                if task.cancel_deadline is not None and time.monotonic() >= task.cancel_deadline:
                    return Outcome.canceled()
                return Outcome.failed(
                    FailCode.TIMEOUT, f"the model ran longer than its timeout of {timeout_s:g} s"
                )
            match message:
                case Progress(percent=percent):
                    await progress.report(percent)
                case Done(result_json=result_json, outputs=outputs):
                    if task.cancel_deadline is not None:
                        return Outcome.canceled(outputs)
                    return Outcome.succeeded(result_json, outputs)
                case Failed(code=code, message=fail_msg):
                    return Outcome.failed(code, fail_msg)
                case WorkerDied(exit_code=exit_code):
                    if task.cancel_deadline is not None:
                        return Outcome.canceled()
                    return Outcome.failed(
                        FailCode.WORKER_CRASHED,
                        f"the worker process running the model died (exit code {exit_code})",
                    )
                case CancelNoted():
                    continue  # the next wait ends at the cancel deadline
                case Ready() | SetupFailed():
                    continue  # sent only before a process's first task
                case _:
                    assert_never(message)


class _ProgressWriter:
    """Writes one run's progress, throttled (see the module's docstring)."""

    def __init__(
        self,
        backend: TaskBackend,
        events: TaskEvents,
        row: TaskRow,
    ) -> None:
        self._backend = backend
        self._events = events
        self._row = row
        self._last_write = 0.0
        self._last_callback = 0.0

    async def report(self, percent: int) -> None:
        now = time.monotonic()
        if now - self._last_write < PROGRESS_WRITE_EVERY_S and percent < 100:
            return
        self._last_write = now
        send_callback = bool(self._row["progress_callback_url"]) and (
            now - self._last_callback >= PROGRESS_CALLBACK_EVERY_S or percent == 100
        )
        if send_callback:
            self._last_callback = now
        row = self._row
        # Conditional on our attempt, and only ever upwards: a stale run writes nothing.
        await self._backend.report_progress(row, percent, callback=send_callback)
        self._events.changed(row["id"])
        if send_callback:
            self._events.outbox_written()
