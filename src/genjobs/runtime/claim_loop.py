"""The claim loop: fills idle pool slots with queued tasks.

A claim takes the oldest queued tasks of each model, as many as the model has free slots,
and gives each a lease in the same statement, so no two runners ever run one attempt.
The loop asks only for models that may have queued work: all of them at start; a claim
that comes back short drops a model (its queue is drained), and the backend's wake-ups
add models back when work arrives for them. With nothing to ask for it sleeps until a
wake-up (or a second passes), so an idle server issues no queries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping

from genjobs.backends.base import ClaimRequest, TaskBackend
from genjobs.dispatch.events import TaskEvents
from genjobs.runtime.pool import ModelPool
from genjobs.store.rows import TaskRow

log = logging.getLogger("genjobs.runner")

CLAIM_RETRY_S = 1.0


class Claims:
    """How this runner claims tasks, and which models may still have queued ones."""

    def __init__(self, worker_id: str, lease_s: float, models: Iterable[str]) -> None:
        self.worker_id = worker_id
        self._lease_ms = int(lease_s * 1000)
        self._models = frozenset(models)
        self._maybe_queued = set(self._models)

    def request(self, free_slots: Mapping[str, int]) -> ClaimRequest:
        """A claim of up to ``free_slots`` tasks per model for this runner."""
        return ClaimRequest(free_slots, self.worker_id, self._lease_ms)

    def may_have_queued(self, model: str) -> bool:
        return model in self._maybe_queued

    def claimed(self, wanted: Mapping[str, int], rows: Iterable[TaskRow]) -> None:
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
        backend: TaskBackend,
        events: TaskEvents,
        start: Callable[[TaskRow], None],
    ) -> None:
        self._claims = claims
        self._pools = pools
        self._backend = backend
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
                self._claims.arrived(await self._backend.wait_for_work(1.0))
                continue
            try:
                rows = await self._backend.claim(self._claims.request(wanted))
            except Exception:  # e.g. the database is unreachable: retry, never give up
                log.exception("claiming tasks failed; retrying in %g s", CLAIM_RETRY_S)
                await asyncio.sleep(CLAIM_RETRY_S)
                continue
            self._claims.claimed(wanted, rows)
            for row in rows:
                self._start(row)
