"""Pool slots: each claimed slot runs tasks of its model back to back on one process.

A slot is opened for a task the claim loop claimed; it runs that task, records its
outcome, and goes on with the next task that outcome's transaction claimed, keeping the
warm process while it lives. The slot is freed (and the claim loop woken) only when no
task follows. Every task leaves the table of running tasks once its outcome is written or
abandoned, whatever went wrong, so its lease is never kept alive by mistake.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from genjobs.core.states import FailCode
from genjobs.dispatch.events import TaskEvents
from genjobs.runtime.outcomes import Outcome, OutcomeRecorder
from genjobs.runtime.pool import ModelPool, WorkerProcess
from genjobs.runtime.registry import ModelRegistry
from genjobs.runtime.running import RunningTask, RunningTasks
from genjobs.runtime.supervisor import Supervisor
from genjobs.store.rows import TaskRow

log = logging.getLogger("genjobs.runner")

SETUP_TIMEOUT_S = 900.0  # loading a model's weights may take minutes the first time
DEFAULT_TIMEOUT_S = 600.0  # should the registry not know the model


class Slots:
    def __init__(
        self,
        *,
        pools: Mapping[str, ModelPool],
        registry: ModelRegistry,
        model_timeout_s: float | None,
        running: RunningTasks,
        supervisor: Supervisor,
        recorder: OutcomeRecorder,
        events: TaskEvents,
    ) -> None:
        self._pools = pools
        self._registry = registry
        self._model_timeout_s = model_timeout_s  # None: each model's own
        self._running = running
        self._supervisor = supervisor
        self._recorder = recorder
        self._events = events
        self._slots: set[asyncio.Task[None]] = set()

    def open(self, row: TaskRow) -> None:
        """Reserve a slot of the task's model and run the task there. Synchronous: the
        task is held (and the slot taken) before the caller awaits anything."""
        self._pools[row["model"]].reserve()
        running = self._running.start(row)
        slot = asyncio.create_task(self._run_slot(running))
        self._slots.add(slot)
        slot.add_done_callback(self._slots.discard)

    def cancel_all(self) -> None:
        for slot in list(self._slots):
            slot.cancel()

    async def _run_slot(self, running: RunningTask) -> None:
        pool = self._pools[running.row["model"]]
        worker: WorkerProcess | None = None
        next_task: RunningTask | None = running
        try:
            while next_task is not None:
                worker, next_task = await self._run_one(next_task, pool, worker)
        finally:
            pool.release(worker)
            self._events.work_available.set()  # a free slot: the claim loop looks again

    async def _run_one(
        self, running: RunningTask, pool: ModelPool, worker: WorkerProcess | None
    ) -> tuple[WorkerProcess | None, RunningTask | None]:
        """Run one task; returns the worker (to keep) and the next task claimed, if any."""
        row = running.row
        started = time.monotonic()  # the timeout includes loading a new process's model
        next_row: TaskRow | None = None
        try:
            if worker is None or not worker.alive():
                worker = None
                try:
                    worker = await pool.acquire(SETUP_TIMEOUT_S)
                except RuntimeError as exc:
                    outcome = Outcome.failed(FailCode.MODEL_UNAVAILABLE, str(exc))
            if worker is not None:
                timeout = self._timeout_of(row["model"])
                outcome = await self._supervisor.run(
                    running, worker, deadline=started + timeout, timeout_s=timeout
                )
            if not running.lost:
                running.finishing = True
                cost_ms = int((time.monotonic() - started) * 1000)
                next_row = await self._recorder.record(row, outcome, cost_ms)
        except Exception:
            log.exception("runner failed on task %s", running.task_id)
        finally:
            self._running.end(running.task_id)
        # Held before anything is awaited, like a task the claim loop claimed.
        return worker, (self._running.start(next_row) if next_row is not None else None)

    def _timeout_of(self, model_name: str) -> float:
        model = self._registry.get(model_name)
        return self._model_timeout_s or (model.timeout_s if model else DEFAULT_TIMEOUT_S)
