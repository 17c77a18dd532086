"""The claim loop: fills idle pool slots with queued tasks.

A claim takes the oldest queued tasks of each model, as many as the model has free slots,
and gives each a lease in the same statement, so no two runners ever run one attempt.
The loop asks only for models that may have queued work: all of them at start; a claim
that comes back short drops a model (its queue is drained), and the dispatcher's wake-ups
add models back when work arrives for them. With nothing to ask for it sleeps until a
wake-up (or a second passes), so an idle server issues no queries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from sqlalchemy import Connection

from genjobs.dispatch.base import Dispatcher
from genjobs.dispatch.events import TaskEvents
from genjobs.runtime.pool import ModelPool
from genjobs.store import tasks
from genjobs.store.group_commit import GroupCommit

log = logging.getLogger("genjobs.runner")

CLAIM_RETRY_S = 1.0


class Claims:
    """How this runner claims tasks, and which models may still have queued ones."""

    def __init__(self, worker_id: str, lease_s: float, models: Iterable[str]) -> None:
        self.worker_id = worker_id
        self._lease_ms = int(lease_s * 1000)
        self._models = frozenset(models)
        self._maybe_queued = set(self._models)

    def claim(self, conn: Connection, free_slots: Mapping[str, int]) -> list[Mapping[Any, Any]]:
        """Claim up to ``free_slots`` tasks per model in the caller's transaction."""
        return tasks.claim(
            conn, free_slots=free_slots, worker_id=self.worker_id, lease_ms=self._lease_ms
        )

    def may_have_queued(self, model: str) -> bool:
        return model in self._maybe_queued

    def claimed(self, wanted: Mapping[str, int], rows: Iterable[Mapping[Any, Any]]) -> None:
        """Note what a committed claim got: a model that got fewer than it asked for has
        drained its queue."""
        got = [row["model"] for row in rows]
        for model, free in wanted.items():
            if got.count(model) < free:
                self._maybe_queued.discard(model)

    def arrived(self, models: set[str] | None) -> None:
        """Work arrived for ``models`` (None: for any model)."""
        self._maybe_queued |= self._models if models is None else models & self._models


class ClaimLoop:
    def __init__(
        self,
        *,
        claims: Claims,
        pools: Mapping[str, ModelPool],
        writes: GroupCommit,
        dispatcher: Dispatcher,
        events: TaskEvents,
        start: Callable[[Mapping[Any, Any]], None],
    ) -> None:
        self._claims = claims
        self._pools = pools
        # Claims are group-committed (like creates and outcomes): on SQLite, those made in
        # the same turn of the loop share one commit.
        self._writes = writes
        self._dispatcher = dispatcher
        self._events = events
        # Runs a claimed task in a slot; called at once for every task a claim returns,
        # before anything is awaited, so a shutdown sees every task we claimed.
        self._start = start

    async def run(self) -> None:
        while True:
            self._claims.arrived(self._events.take_work())
            wanted = {
                name: pool.free
                for name, pool in self._pools.items()
                if pool.free > 0 and self._claims.may_have_queued(name)
            }
            if not wanted:
                self._claims.arrived(await self._dispatcher.wait_for_work(1.0))
                continue
            try:
                rows = await self._writes.run(partial(self._claims.claim, free_slots=wanted))
            except Exception:  # e.g. the database is unreachable: retry, never give up
                log.exception("claiming tasks failed; retrying in %g s", CLAIM_RETRY_S)
                await asyncio.sleep(CLAIM_RETRY_S)
                continue
            self._claims.claimed(wanted, rows)
            for row in rows:
                self._start(row)
