"""The lease keeper: renews the lease of every task this runner runs.

A lease is renewed every ``lease/3``, so one or two failed rounds (the database briefly
unreachable) still leave it standing. A renewal is conditional on the attempt we
claimed: if it matches nothing, the lease lapsed and the sweeper has retried or failed
the task, so we abandon it (kill its process, write nothing). The same round reads which
of our tasks were asked to cancel, which is how a cancel reaches us from another server.
"""

from __future__ import annotations

import asyncio
import logging

from genjobs.backends.base import TaskBackend
from genjobs.core.clock import now_ms
from genjobs.runtime.running import RunningTasks

log = logging.getLogger("genjobs.runner")


class LeaseKeeper:
    def __init__(self, backend: TaskBackend, running: RunningTasks, lease_s: float) -> None:
        self._backend = backend
        self._running = running
        self._lease_s = lease_s

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                await self.renew()
            except Exception:  # the next round tries again, well within the lease
                log.exception("renewing leases failed")

    async def renew(self) -> None:
        """One round: extend our leases, abandon the lost ones, pass on cancels."""
        until = now_ms() + int(self._lease_s * 1000)
        # A finishing task's final state may already be committed (group commit), so its
        # lease no longer matches: that is not a lost lease.
        rows = [item.row for item in self._running if not item.finishing]
        lost, cancelled = await self._backend.renew_leases(rows, until)
        for task_id in lost:
            if self._running.abandon(task_id):
                log.warning("lost the lease of %s; abandoning it", task_id)
        for task_id in cancelled:
            self._running.cancel(task_id)
