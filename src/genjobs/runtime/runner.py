"""The runner: claims queued tasks, runs them in worker processes, records the outcome.

It composes the pieces, each in a module of its own:

- ``claim_loop``: fills idle pool slots with queued tasks, each claimed with a lease;
- ``slots``: a slot runs its task, then the next ones its outcomes claim, on one process;
- ``supervisor``: one run on a worker process, from sending the task to its outcome;
- ``outcomes``: writes the outcome (and claims the slot's next task in that transaction);
- ``leases``: renews the leases of the tasks we run, and notices cancels;
- ``sweeper``: retries or fails tasks whose lease lapsed, requeues lost hand-offs;
- ``running``: the table of the tasks we hold, which all of the above share.

If this process dies, its leases lapse and the sweeper (of this or any other server)
retries or fails its tasks. All writes are conditional on the task's attempt, so a stale
runner cannot overwrite a newer outcome.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket

from genjobs.backends.base import TaskBackend
from genjobs.config import Settings
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage
from genjobs.runtime.claim_loop import ClaimLoop, Claims
from genjobs.runtime.leases import LeaseKeeper
from genjobs.runtime.outcomes import OutcomeRecorder
from genjobs.runtime.pool import ModelPool
from genjobs.runtime.registry import ModelRegistry
from genjobs.runtime.running import RunningTasks
from genjobs.runtime.slots import Slots
from genjobs.runtime.supervisor import Supervisor
from genjobs.runtime.sweeper import Sweeper

log = logging.getLogger("genjobs.runner")


class Runner:
    def __init__(
        self,
        *,
        backend: TaskBackend,
        registry: ModelRegistry,
        settings: Settings,
        events: TaskEvents,
        storage: Storage,
    ) -> None:
        self._backend = backend
        self._events = events
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.pools = {
            model.name: ModelPool(model.name, registry.concurrency(model, settings), settings)
            for model in registry
        }
        self._running = RunningTasks(events, settings.cancel_grace_s)
        claims = Claims(self.worker_id, settings.lease_s, self.pools)
        self._slots = Slots(
            pools=self.pools,
            registry=registry,
            model_timeout_s=settings.model_timeout_s,
            running=self._running,
            supervisor=Supervisor(backend=backend, events=events, running=self._running),
            recorder=OutcomeRecorder(
                backend=backend, storage=storage, events=events, claims=claims
            ),
            events=events,
        )
        self._claim_loop = ClaimLoop(
            claims=claims,
            pools=self.pools,
            backend=backend,
            events=events,
            start=self._slots.open,
        )
        self._lease_keeper = LeaseKeeper(backend, self._running, settings.lease_s)
        self._sweeper = Sweeper(
            backend=backend,
            events=events,
            max_attempts=settings.max_attempts,
            ours=self._running,
        )

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._claim_loop.run())
            group.create_task(self._lease_keeper.run())
            group.create_task(self._sweeper.run())
            group.create_task(self._cancel_loop())

    async def _cancel_loop(self) -> None:
        """Cancels asked for in this process; the lease keeper notices other servers'."""
        while True:
            self.cancel(await self._events.cancel_requested.get())

    def cancel(self, task_id: str) -> None:
        """Ask a task of ours to stop (nothing happens if it is not ours)."""
        self._running.cancel(task_id)

    async def sweep(self) -> None:
        """One round of the sweeper (see runtime.sweeper)."""
        await self._sweeper.sweep()

    async def shutdown(self) -> None:
        """Stop workers and hand running tasks back to the queue for the next start."""
        self._slots.cancel_all()
        held = list(self._running)
        for item in held:
            if item.worker is not None:
                item.worker.kill()
        try:
            await self._backend.requeue([item.row for item in held])
        except Exception:  # e.g. the database is down: their leases lapse instead
            log.exception("could not hand %d running tasks back to the queue", len(held))
        for pool in self.pools.values():
            pool.shutdown()
