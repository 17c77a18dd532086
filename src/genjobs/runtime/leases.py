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
from collections.abc import Mapping
from functools import partial
from typing import Any

from sqlalchemy import Connection

from genjobs.core.clock import now_ms
from genjobs.runtime.running import RunningTasks
from genjobs.store import tasks
from genjobs.store.database import Database

log = logging.getLogger("genjobs.runner")


class LeaseKeeper:
    def __init__(self, db: Database, running: RunningTasks, lease_s: float) -> None:
        self._db = db
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
        lost, cancelled = await self._db.run(partial(_renew_leases, rows=rows, until=until))
        for task_id in lost:
            if self._running.abandon(task_id):
                log.warning("lost the lease of %s; abandoning it", task_id)
        for task_id in cancelled:
            self._running.cancel(task_id)


def _renew_leases(
    conn: Connection, rows: list[Mapping[Any, Any]], until: int
) -> tuple[list[str], set[str]]:
    """Extend our leases; returns (tasks whose lease we lost, tasks asked to cancel)."""
    lost = [
        row["id"] for row in rows if not tasks.renew_lease(conn, row["id"], row["attempt"], until)
    ]
    return lost, tasks.cancel_requested_ids(conn, [row["id"] for row in rows])
