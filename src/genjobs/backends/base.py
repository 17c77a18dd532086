"""The task backend interface: every task operation the use cases and the runner need,
asynchronous, each its own transaction (or a share of one, see backends.sqlite).

A backend composes the store's SQL functions (store/tasks.py, store/lifecycle.py) with
its way of running transactions and of waking the claim loop. To add a database, write a
module with a class that satisfies ``TaskBackend`` and pick it in backends/factory.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from genjobs.files.storage import StoredFile
from genjobs.store.lifecycle import NewTask
from genjobs.store.rows import TaskRow

Row = TaskRow  # a task row (store.tables.tasks), typed


@dataclass(frozen=True)
class ClaimRequest:
    """Claim up to ``free_slots`` queued tasks per model for ``worker_id``, each with a
    lease of ``lease_ms``."""

    free_slots: Mapping[str, int]
    worker_id: str
    lease_ms: int


class TaskBackend(Protocol):
    # --- the use cases ---------------------------------------------------------------
    async def create(self, new: NewTask) -> tuple[str, bool]:
        """Debit the price and store the task (``waiting``), or find the earlier task with
        the same idempotency key: (task id, created). Refusals (InsufficientCredits, a key
        reused with another body) come before anything is written."""

    async def enqueue(self, task_id: str, model: str) -> None:
        """Hand a ``waiting`` task to the queue (``queuing``) and wake whoever claims."""

    async def cancel(self, task_id: str, owner_id: str | None) -> Row:
        """Cancel now if no worker has the task, else flag it for its worker; the task's
        row afterwards. NotFound / InvalidInput (already finished) before any write."""

    async def read_record(self, task_id: str, owner_id: str | None = None) -> dict[str, Any] | None:
        """The task's kie record (recordInfo's ``data``), the hot path of polling."""

    async def get(self, task_id: str, owner_id: str | None = None) -> Row | None:
        """The task's row (None: no such task, or with ``owner_id`` someone else's)."""

    async def list_page(
        self,
        *,
        owner_id: str | None,
        state: str | None,
        model: str | None,
        limit: int,
        cursor: tuple[int, str] | None,
    ) -> tuple[list[Row], str | None]:
        """Newest first, and the cursor of the next page."""

    # --- the runner ------------------------------------------------------------------
    async def claim(self, request: ClaimRequest) -> list[Row]:
        """Claim queued tasks, oldest first, each with a lease (``generating``)."""

    async def renew_leases(self, rows: Sequence[Row], until_ms: int) -> tuple[list[str], set[str]]:
        """Extend the leases of ``rows`` (their attempts): (ids whose lease was lost, ids
        asked to cancel)."""

    async def report_progress(self, row: Row, percent: int, *, callback: bool) -> None:
        """Raise the progress of ``row``'s attempt (never lowers it); with ``callback``
        queue a progress callback too."""

    async def succeed(
        self,
        row: Row,
        *,
        result_json: str,
        cost_ms: int,
        outputs: Iterable[StoredFile],
        then_claim: ClaimRequest | None = None,
    ) -> tuple[bool, list[Row]]:
        """``generating`` -> ``success`` (SUCCEED) with the result and its files and the
        callback, if ``row``'s attempt still owns the task; in the same transaction claim
        by ``then_claim``. (moved, claimed rows)."""

    async def fail(
        self,
        row: Row,
        *,
        code: str,
        message: str,
        cost_ms: int | None = None,
        then_claim: ClaimRequest | None = None,
    ) -> tuple[bool, list[Row]]:
        """``generating`` -> ``fail`` (FAIL_RUN) with the refund and the callback, if
        ``row``'s attempt still owns the task; claims like ``succeed``."""

    async def requeue(self, rows: Sequence[Row]) -> None:
        """``generating`` -> ``queuing`` (REQUEUE) for another attempt, each if its attempt
        still owns it."""

    # --- the sweeper -----------------------------------------------------------------
    async def stale_waiting(self, older_than_ms: int) -> list[tuple[str, str]]:
        """(id, model) of tasks ``waiting`` since before ``older_than_ms``."""

    async def expired_leases(self, now_ms: int) -> list[Row]:
        """``generating`` tasks whose lease lapsed before ``now_ms``."""

    # --- wake-ups and life -----------------------------------------------------------
    async def wait_for_work(self, timeout_s: float) -> set[str] | None:
        """Return when work may be available, or after ``timeout_s``: the models work
        arrived for, or None when it may have arrived for any model."""

    def start_wakeups(self) -> asyncio.Task[None] | None:
        """Start listening for work queued by other processes (None: nothing to start)."""
