"""How accepted tasks reach workers. The task row is the source of truth; a dispatcher
moves it ``waiting`` -> ``queuing`` and wakes whoever claims work."""

from __future__ import annotations

from typing import Protocol


class Dispatcher(Protocol):
    async def submit(self, task_id: str, model: str) -> None:
        """Hand a stored (``waiting``) task of ``model`` to the workers (``queuing``)."""

    async def wait_for_work(self, timeout_s: float) -> set[str] | None:
        """Return when work may be available, or after ``timeout_s``: the models work
        arrived for, or None when it may have arrived for any model."""
