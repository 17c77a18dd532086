"""The runner: claims queued tasks, runs them in worker processes, records the outcome.

It holds a lease on every task it runs and renews it; if this process dies, the lease
lapses and the sweeper (of this or any other server) retries or fails the task. All
writes are conditional on the task's attempt, so a stale runner cannot overwrite a newer
outcome.

Each claimed pool slot runs tasks of its model back to back: the transaction that
records a task's outcome also claims the next queued task of the same model, so a busy
queue costs one write per task, not two. The claim loop fills idle slots, and asks only
for models that may have queued work (told by the dispatcher's wake-ups).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Connection

from genjobs import metrics
from genjobs.config import Settings
from genjobs.core.clock import now_ms
from genjobs.core.states import FailCode, State
from genjobs.dispatch.base import Dispatcher
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage, StoredFile
from genjobs.runtime.pool import DEAD, ModelPool, WorkerProcess
from genjobs.runtime.registry import ModelRegistry
from genjobs.store import lifecycle, tasks
from genjobs.store.database import Database
from genjobs.store.group_commit import GroupCommit

log = logging.getLogger("genjobs.runner")

SETUP_TIMEOUT_S = 900.0
PROGRESS_WRITE_EVERY_S = 0.25
PROGRESS_CALLBACK_EVERY_S = 1.0
SWEEP_EVERY_S = 2.0
CLAIM_RETRY_S = 1.0
STALE_WAITING_MS = 3_000


@dataclass
class Outcome:
    state: State
    fail_code: str = ""
    fail_msg: str = ""
    result_json: str = ""
    outputs: list[StoredFile] = field(default_factory=list)


@dataclass
class RunningTask:
    row: Mapping[Any, Any]
    worker: WorkerProcess | None = None
    cancel_deadline: float | None = None
    lost: bool = False  # the lease was taken from us: stop without writing
    finishing: bool = False  # its outcome is being written: no lease to keep


class Runner:
    def __init__(
        self,
        *,
        db: Database,
        writes: GroupCommit,
        registry: ModelRegistry,
        settings: Settings,
        events: TaskEvents,
        dispatcher: Dispatcher,
        policy: lifecycle.OutboxPolicy,
        storage: Storage,
    ) -> None:
        self._db = db
        self._storage = storage
        self._registry = registry
        self._settings = settings
        self._events = events
        self._dispatcher = dispatcher
        self._policy = policy
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.pools = {
            model.name: ModelPool(model.name, registry.concurrency(model, settings), settings)
            for model in registry
        }
        self._running: dict[str, RunningTask] = {}
        self._runs: set[asyncio.Task[None]] = set()
        # Models whose queue may hold tasks: all at start; a claim that comes back short
        # drops a model, work arriving for it adds it back.
        self._maybe_queued: set[str] = set(self.pools)
        # Claims and outcomes are group-committed (like creates): on SQLite, those made in
        # the same turn of the loop share one commit.
        self._writes = writes

    # --- the loops ------------------------------------------------------------------
    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._claim_loop())
            group.create_task(self._lease_loop())
            group.create_task(self._sweep_loop())
            group.create_task(self._cancel_loop())

    async def _claim_loop(self) -> None:
        while True:
            self._note_arrivals(self._events.take_work())
            wanted = {
                name: pool.free
                for name, pool in self.pools.items()
                if pool.free > 0 and name in self._maybe_queued
            }
            if not wanted:
                self._note_arrivals(await self._dispatcher.wait_for_work(1.0))
                continue
            try:
                rows = await self._writes.run(partial(self._claim, free_slots=wanted))
            except Exception:  # e.g. the database is unreachable: retry, never give up
                log.exception("claiming tasks failed; retrying in %g s", CLAIM_RETRY_S)
                await asyncio.sleep(CLAIM_RETRY_S)
                continue
            for model, free in wanted.items():
                if sum(row["model"] == model for row in rows) < free:
                    self._maybe_queued.discard(model)  # its queue is drained
            for row in rows:
                self.pools[row["model"]].reserve()
                running = self._start(row)
                slot = asyncio.create_task(self._run_slot(running))
                self._runs.add(slot)
                slot.add_done_callback(self._runs.discard)

    def _note_arrivals(self, models: set[str] | None) -> None:
        self._maybe_queued |= set(self.pools) if models is None else models & set(self.pools)

    def _claim(self, conn: Connection, free_slots: Mapping[str, int]) -> list[Mapping[Any, Any]]:
        return tasks.claim(
            conn,
            free_slots=free_slots,
            worker_id=self.worker_id,
            lease_ms=int(self._settings.lease_s * 1000),
        )

    def _start(self, row: Mapping[Any, Any]) -> RunningTask:
        """Track a just-claimed task (before any await, so shutdown sees every claim)."""
        running = self._running[row["id"]] = RunningTask(row)
        self._events.changed(row["id"])
        return running

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(self._settings.lease_s / 3)
            until = now_ms() + int(self._settings.lease_s * 1000)
            # A finishing task's final state may already be committed (group commit),
            # so its lease no longer matches: that is not a lost lease.
            running = [item.row for item in self._running.values() if not item.finishing]
            try:
                lost, cancelled = await self._db.run(
                    partial(_renew_leases, rows=running, until=until)
                )
            except Exception:  # the next round tries again, well within the lease
                log.exception("renewing leases failed")
                continue
            for task_id in lost:
                if task_id in self._running and not self._running[task_id].finishing:
                    log.warning("lost the lease of %s; abandoning it", task_id)
                    self._running[task_id].lost = True
                    self._stop_worker(task_id)
            for task_id in cancelled:
                self.cancel(task_id)

    async def _cancel_loop(self) -> None:
        while True:
            self.cancel(await self._events.cancel_requested.get())

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed")
            await asyncio.sleep(SWEEP_EVERY_S)

    async def sweep(self) -> None:
        """Requeue tasks left ``waiting``; retry or fail tasks whose lease lapsed."""
        stale = await self._db.run(
            partial(tasks.ids_in_state, state=State.WAITING, older_than=now_ms() - STALE_WAITING_MS)
        )
        for task_id, model in stale:
            await self._dispatcher.submit(task_id, model)
        expired = await self._db.run(partial(tasks.expired_leases, now=now_ms()))
        for row in expired:
            if row["id"] in self._running:
                continue  # ours and alive; the lease loop is merely late
            await self._db.run(partial(self._recover_lost, row=row))
            self._events.changed(row["id"])
            self._events.work_arrived({row["model"]})

    def _recover_lost(self, conn: Connection, row: Mapping[Any, Any]) -> None:
        if row["attempt"] < self._settings.max_attempts and not row["cancel_requested"]:
            log.warning("task %s lost its worker; retrying it", row["id"])
            tasks.move(
                conn,
                row["id"],
                [State.GENERATING],
                State.QUEUING,
                attempt=row["attempt"],
                lease_until=None,
                worker_id=None,
                progress=0,
            )
            return
        code, message = (
            (FailCode.CANCELED, "the task was canceled")
            if row["cancel_requested"]
            else (
                FailCode.WORKER_LOST,
                f"the worker running the task was lost {row['attempt']} times",
            )
        )
        lifecycle.finish_failure(
            conn,
            row["id"],
            code=code,
            message=message,
            policy=self._policy,
            from_states=[State.GENERATING],
            attempt=row["attempt"],
        )

    # --- cancellation -------------------------------------------------------------
    def cancel(self, task_id: str) -> None:
        running = self._running.get(task_id)
        if running is None or running.cancel_deadline is not None:
            return
        running.cancel_deadline = time.monotonic() + self._settings.cancel_grace_s
        if running.worker is not None:
            running.worker.send("cancel", task_id)
            running.worker.messages.put_nowait(("cancel_check",))

    def _stop_worker(self, task_id: str) -> None:
        running = self._running.get(task_id)
        if running is not None and running.worker is not None:
            running.worker.kill()

    # --- one slot, one task after another ---------------------------------------
    async def _run_slot(self, running: RunningTask) -> None:
        """Run the claimed task, then the next ones its outcomes claim, in one slot of the
        model's pool, keeping the worker process while it lives."""
        pool = self.pools[running.row["model"]]
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
        task_id = row["id"]
        model = self._registry.get(row["model"])
        started = time.monotonic()
        next_row: Mapping[Any, Any] | None = None
        try:
            if worker is None or not worker.alive():
                worker = None
                try:
                    worker = await pool.acquire(SETUP_TIMEOUT_S)
                except RuntimeError as exc:
                    outcome = Outcome(State.FAIL, FailCode.MODEL_UNAVAILABLE, str(exc))
            if worker is not None:
                running.worker = worker
                timeout = self._settings.model_timeout_s or (model.timeout_s if model else 600)
                outcome = await self._supervise(running, worker, started + timeout, timeout)
            if not running.lost:
                running.finishing = True
                next_row = await self._finish(
                    row,
                    outcome,
                    int((time.monotonic() - started) * 1000),
                    claim_next=row["model"] in self._maybe_queued,
                )
        except Exception:
            log.exception("runner failed on task %s", task_id)
        finally:
            del self._running[task_id]
            self._events.changed(task_id)
        return worker, (self._start(next_row) if next_row is not None else None)

    async def _supervise(
        self, running: RunningTask, worker: WorkerProcess, deadline: float, timeout: float
    ) -> Outcome:
        row = running.row
        task_id = row["id"]
        raw_input = json.loads(row["param"]).get("input", {})
        if running.cancel_deadline is None and row["cancel_requested"]:
            self.cancel(task_id)
        if not worker.send("run", task_id, raw_input):
            return Outcome(State.FAIL, FailCode.WORKER_CRASHED, "the worker process died")
        if running.cancel_deadline is not None:
            worker.send("cancel", task_id)
        progress = _ProgressWriter(self, row)
        while True:
            limit = (
                deadline
                if running.cancel_deadline is None
                else min(deadline, running.cancel_deadline)
            )
            try:
                async with asyncio.timeout(max(0.0, limit - time.monotonic())):
                    message = await worker.messages.get()
            except TimeoutError:
                worker.kill()
                if (
                    running.cancel_deadline is not None
                    and time.monotonic() >= running.cancel_deadline
                ):
                    return Outcome(State.FAIL, FailCode.CANCELED, "the task was canceled")
                return Outcome(
                    State.FAIL,
                    FailCode.TIMEOUT,
                    f"the model ran longer than its timeout of {timeout:g} s",
                )
            kind = message[0]
            if kind == "progress":
                await progress.report(int(message[2]))
            elif kind == "done":
                if running.cancel_deadline is not None:
                    return Outcome(
                        State.FAIL, FailCode.CANCELED, "the task was canceled", outputs=message[3]
                    )
                return Outcome(State.SUCCESS, result_json=message[2], outputs=message[3])
            elif kind == "failed":
                return Outcome(State.FAIL, str(message[2]), str(message[3]))
            elif message is DEAD:
                if running.cancel_deadline is not None:
                    return Outcome(State.FAIL, FailCode.CANCELED, "the task was canceled")
                exit_code = worker.process.exitcode
                return Outcome(
                    State.FAIL,
                    FailCode.WORKER_CRASHED,
                    f"the worker process running the model died (exit code {exit_code})",
                )

    async def _finish(
        self, row: Mapping[Any, Any], outcome: Outcome, cost_ms: int, *, claim_next: bool
    ) -> Mapping[Any, Any] | None:
        """Record the outcome and, with ``claim_next``, claim the model's next queued task
        in the same transaction; returns that task, if any. Neither write raises an
        ApiError, so a failed group commit rolls back and retries each call on its own."""
        record: Callable[[Connection], bool]
        if outcome.state == State.SUCCESS:
            record = partial(
                lifecycle.finish_success,
                task=row,
                result_json=outcome.result_json,
                cost_time=cost_ms,
                outputs=outcome.outputs,
                policy=self._policy,
            )
        else:
            for stored in outcome.outputs:  # a canceled run keeps no files
                self._storage.delete(stored.kind, stored.token)
            record = partial(
                lifecycle.finish_failure,
                task_id=row["id"],
                code=outcome.fail_code,
                message=outcome.fail_msg,
                policy=self._policy,
                from_states=[State.GENERATING],
                attempt=row["attempt"],
                cost_time=cost_ms,
            )
        model = row["model"]

        def record_and_claim(conn: Connection) -> tuple[bool, list[Mapping[Any, Any]]]:
            done = record(conn)
            return done, (self._claim(conn, {model: 1}) if claim_next else [])

        done, claimed = await self._writes.run(record_and_claim)
        if claim_next and not claimed:
            self._maybe_queued.discard(model)
        if done:
            metrics.tasks_finished.labels(model, outcome.state, outcome.fail_code).inc()
            metrics.generation_seconds.labels(model).observe(cost_ms / 1000)
            if row["callback_url"]:  # a final callback was queued: wake the deliverer
                self._events.outbox_written()
        return claimed[0] if claimed else None

    # --- shutdown ---------------------------------------------------------------------
    async def shutdown(self) -> None:
        """Stop workers and hand running tasks back to the queue for the next start."""
        for run in list(self._runs):
            run.cancel()
        running = list(self._running.values())
        for item in running:
            if item.worker is not None:
                item.worker.kill()

        def requeue(conn: Connection) -> None:
            for item in running:
                tasks.move(
                    conn,
                    item.row["id"],
                    [State.GENERATING],
                    State.QUEUING,
                    attempt=item.row["attempt"],
                    lease_until=None,
                    worker_id=None,
                    progress=0,
                )

        try:
            await self._db.run(requeue)
        except Exception:  # e.g. the database is down: their leases lapse instead
            log.exception("could not hand %d running tasks back to the queue", len(running))
        for pool in self.pools.values():
            pool.shutdown()


def _renew_leases(
    conn: Connection, rows: list[Mapping[Any, Any]], until: int
) -> tuple[list[str], set[str]]:
    """Extend our leases; returns (tasks whose lease we lost, tasks asked to cancel)."""
    lost = [
        row["id"] for row in rows if not tasks.renew_lease(conn, row["id"], row["attempt"], until)
    ]
    return lost, tasks.cancel_requested_ids(conn, [row["id"] for row in rows])


class _ProgressWriter:
    """Writes progress at most every 0.25 s (and progress callbacks every 1 s)."""

    def __init__(self, runner: Runner, row: Mapping[Any, Any]) -> None:
        self._runner = runner
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
        row, policy = self._row, self._runner._policy

        def write(conn: Connection) -> None:
            if tasks.set_progress(conn, row["id"], row["attempt"], percent) and send_callback:
                lifecycle.progress_event(conn, row, percent, policy)

        await self._runner._db.run(write)
        self._runner._events.changed(row["id"])
        if send_callback:
            self._runner._events.outbox_written()
