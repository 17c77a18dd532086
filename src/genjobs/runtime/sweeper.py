"""The sweeper: nothing stays stuck when a server dies.

Every few seconds it hands tasks left ``waiting`` (their hand-off to the queue was lost
with a crash) to the queue again, and takes over tasks whose lease lapsed (their
runner died, or lost touch with the database for longer than the lease): each goes back
to the queue for another attempt, or fails with ``worker_lost`` once it has had
``max_attempts`` (``canceled`` if it was asked to cancel meanwhile). Any server's
sweeper may do this for any runner's tasks; the writes are conditional on the attempt,
so two sweepers, or a sweeper and a late runner, cannot both succeed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Container

from genjobs.backends.base import Row, TaskBackend
from genjobs.core.clock import now_ms
from genjobs.core.states import FailCode
from genjobs.dispatch.events import TaskEvents
from genjobs.runtime.outcomes import CANCELED_MESSAGE

log = logging.getLogger("genjobs.runner")

SWEEP_EVERY_S = 2.0
# A task is handed to the queue within milliseconds of its creation; one still waiting
# after this long lost its hand-off.
STALE_WAITING_MS = 3_000


class Sweeper:
    def __init__(
        self,
        *,
        backend: TaskBackend,
        events: TaskEvents,
        max_attempts: int,
        ours: Container[str],
    ) -> None:
        self._backend = backend
        self._events = events
        self._max_attempts = max_attempts
        # The ids of the tasks this runner runs: a lapsed lease of one of them means only
        # that the lease keeper is late, not that its runner is gone.
        self._ours = ours

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed")
            await asyncio.sleep(SWEEP_EVERY_S)

    async def sweep(self) -> None:
        """Requeue tasks left ``waiting``; retry or fail tasks whose lease lapsed."""
        stale = await self._backend.stale_waiting(now_ms() - STALE_WAITING_MS)
        for task_id, model in stale:
            await self._backend.enqueue(task_id, model)
        expired = await self._backend.expired_leases(now_ms())
        for row in expired:
            if row["id"] in self._ours:
                continue
            await self._recover(row)
            self._events.changed(row["id"])
            self._events.work_arrived({row["model"]})

    async def _recover(self, row: Row) -> None:
        """Retry a task whose runner was lost, or fail it once it has used its attempts."""
        if row["attempt"] < self._max_attempts and not row["cancel_requested"]:
            log.warning("task %s lost its worker; retrying it", row["id"])
            await self._backend.requeue([row])
            return
        if row["cancel_requested"]:
            code, message = FailCode.CANCELED, CANCELED_MESSAGE
        else:
            code = FailCode.WORKER_LOST
            message = f"the worker running the task was lost {row['attempt']} times"
        await self._backend.fail(row, code=code, message=message)
