"""What the SQL backends share: each task operation as a store function (store/tasks.py,
store/lifecycle.py) run by the backend's transaction strategy, the batched hand-off to
the queue, and the wake-ups through TaskEvents.

A subclass says how a small write runs (``_write``: SQLite group-commits it) and whether
a hand-off can ride in another write's transaction (``_ride``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from genjobs.backends.base import ClaimRequest, Row
from genjobs.core.states import State
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import StoredFile
from genjobs.store import lifecycle, tasks
from genjobs.store.database import Database

T = TypeVar("T")
log = logging.getLogger(__name__)

# A hand-off rides in the transaction of the next write of this process (a createTask, a
# task's outcome) where the backend groups writes, so under steady traffic it costs no
# commit of its own; when no write comes within this window it commits alone.
FLUSH_WINDOW_S = 0.002


def _claim(conn: Connection, request: ClaimRequest | None) -> list[Row]:
    if request is None or not any(free > 0 for free in request.free_slots.values()):
        return []
    return tasks.claim(
        conn,
        free_slots=request.free_slots,
        worker_id=request.worker_id,
        lease_ms=request.lease_ms,
    )


class SqlBackend:
    """Hand-offs are batched: the tasks enqueued until the next write (or for at most
    ``flush_window_s``) move to ``queuing`` in one update. A task whose hand-off is lost
    to a crash stays ``waiting`` and the runner's sweeper enqueues it again."""

    def __init__(
        self,
        db: Database,
        events: TaskEvents,
        policy: lifecycle.OutboxPolicy,
        flush_window_s: float = FLUSH_WINDOW_S,
    ) -> None:
        self.db = db
        self.events = events
        self.policy = policy
        self._flush_window_s = flush_window_s
        # (task id, model); taking the batch replaces the list, so a window's timer, which
        # holds the list it was armed for, knows whether its batch is gone.
        self._pending: list[tuple[str, str]] = []

    # --- the transaction strategy (subclasses) ---------------------------------------
    async def _write(self, fn: Callable[[Connection], T]) -> T:
        """A small write transaction (a create, a claim, an outcome)."""
        return await self.db.run(fn)

    def _ride(self, fn: Callable[[Connection], None]) -> bool:
        """Run ``fn`` in the next write's transaction; False if writes are not grouped."""
        return False

    def start_wakeups(self) -> asyncio.Task[None] | None:
        return None

    # --- the use cases ---------------------------------------------------------------
    async def create(self, new: lifecycle.NewTask) -> tuple[str, bool]:
        try:
            return await self._write(partial(lifecycle.create_once, new=new))
        except IntegrityError:  # a concurrent request with the same Idempotency-Key won
            return await self.db.run(partial(lifecycle.create_once, new=new))

    async def enqueue(self, task_id: str, model: str) -> None:
        self._pending.append((task_id, model))
        if len(self._pending) == 1:
            rides = self._ride(self._hand_off)
            loop = asyncio.get_running_loop()
            if rides:
                loop.call_later(self._flush_window_s, self._commit_if_waiting, self._pending)
            else:  # without grouped writes the window's batch commits on its own
                loop.call_later(self._flush_window_s, self._commit_alone)

    async def cancel(self, task_id: str, owner_id: str | None) -> Row:
        return await self.db.run(
            partial(lifecycle.cancel, task_id=task_id, owner_id=owner_id, policy=self.policy)
        )

    async def read_record(self, task_id: str, owner_id: str | None = None) -> dict[str, Any] | None:
        return await tasks.read_record(self.db, task_id, owner_id)

    async def get(self, task_id: str, owner_id: str | None = None) -> Row | None:
        return await self.db.run(partial(tasks.get, task_id=task_id, owner_id=owner_id))

    async def list_page(
        self,
        *,
        owner_id: str | None,
        state: str | None,
        model: str | None,
        limit: int,
        cursor: tuple[int, str] | None,
    ) -> tuple[list[Row], str | None]:
        return await self.db.run(
            partial(
                tasks.list_page,
                owner_id=owner_id,
                state=state,
                model=model,
                limit=limit,
                cursor=cursor,
            )
        )

    # --- the runner ------------------------------------------------------------------
    async def claim(self, request: ClaimRequest) -> list[Row]:
        return await self._write(partial(_claim, request=request))

    async def renew_leases(self, rows: Sequence[Row], until_ms: int) -> tuple[list[str], set[str]]:
        return await self.db.run(partial(tasks.renew_leases, rows=rows, until=until_ms))

    async def report_progress(self, row: Row, percent: int, *, callback: bool) -> None:
        await self.db.run(
            partial(
                lifecycle.report_progress,
                task=row,
                progress=percent,
                policy=self.policy,
                callback=callback,
            )
        )

    async def succeed(
        self,
        row: Row,
        *,
        result_json: str,
        cost_ms: int,
        outputs: Iterable[StoredFile],
        then_claim: ClaimRequest | None = None,
    ) -> tuple[bool, list[Row]]:
        record = partial(
            lifecycle.finish_success,
            task=row,
            result_json=result_json,
            cost_time=cost_ms,
            outputs=outputs,
            policy=self.policy,
        )
        return await self._write(partial(_record_and_claim, record=record, then=then_claim))

    async def fail(
        self,
        row: Row,
        *,
        code: str,
        message: str,
        cost_ms: int | None = None,
        then_claim: ClaimRequest | None = None,
    ) -> tuple[bool, list[Row]]:
        record = partial(
            lifecycle.fail_run,
            row=row,
            code=code,
            message=message,
            policy=self.policy,
            cost_ms=cost_ms,
        )
        return await self._write(partial(_record_and_claim, record=record, then=then_claim))

    async def requeue(self, rows: Sequence[Row]) -> None:
        def requeue(conn: Connection) -> None:
            for row in rows:
                lifecycle.requeue(conn, row)

        await self.db.run(requeue)

    # --- the sweeper -----------------------------------------------------------------
    async def stale_waiting(self, older_than_ms: int) -> list[tuple[str, str]]:
        return await self.db.run(
            partial(tasks.ids_in_state, state=State.WAITING, older_than=older_than_ms)
        )

    async def expired_leases(self, now_ms: int) -> list[Row]:
        return await self.db.run(partial(tasks.expired_leases, now=now_ms))

    # --- wake-ups --------------------------------------------------------------------
    async def wait_for_work(self, timeout_s: float) -> set[str] | None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that coincides with the event, which left the runner unstoppable at shutdown.
        try:
            async with asyncio.timeout(timeout_s):
                await self.events.work_available.wait()
        except TimeoutError:
            # Other processes (API nodes, `genjobs worker`s) queue work without telling
            # this one: after a quiet while, any model may have some.
            self.events.take_work()
            return None
        return self.events.take_work()

    # --- the hand-off ----------------------------------------------------------------
    def _commit_if_waiting(self, batch: list[tuple[str, str]]) -> None:
        # Only when no write came along to carry this window's batch: under steady
        # traffic a later batch is pending by now, and it has a timer of its own.
        if batch is self._pending:
            _in_background(self._write(self._hand_off))

    def _hand_off(self, conn: Connection) -> None:
        """The rider: on the event loop's thread, in a grouped write's transaction."""
        batch = self._take()
        if batch:  # else already carried by an earlier write
            tasks.enqueue_many(conn, [task_id for task_id, _ in batch])
            # Waking before the commit is safe: the commit happens in this same callback,
            # before anyone woken can run.
            self._notify(batch)

    def _commit_alone(self) -> None:
        batch = self._take()

        async def enqueue() -> None:
            await self.db.run(partial(tasks.enqueue_many, ids=[task_id for task_id, _ in batch]))
            self._notify(batch)

        _in_background(enqueue())

    def _take(self) -> list[tuple[str, str]]:
        batch, self._pending = self._pending, []
        return batch

    def _notify(self, batch: list[tuple[str, str]]) -> None:
        for task_id, _ in batch:
            self.events.changed(task_id)
        self.events.work_arrived({model for _, model in batch})


def _record_and_claim(
    conn: Connection, record: Callable[[Connection], bool], then: ClaimRequest | None
) -> tuple[bool, list[Row]]:
    return record(conn), _claim(conn, then)


_background: set[asyncio.Task[Any]] = set()


def _in_background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _background.add(task)  # a reference, so the task is not collected mid-way
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task[Any]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("handing tasks to the queue failed", exc_info=task.exception())
