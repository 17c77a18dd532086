"""How accepted tasks reach workers. The task row is the source of truth; a dispatcher
moves it ``waiting`` -> ``queuing`` and wakes whoever claims work."""

from __future__ import annotations

from typing import Protocol


class Dispatcher(Protocol):
    async def submit(self, task_id: str) -> None:
        """Hand a stored (``waiting``) task to the workers (``queuing``)."""

    async def wait_for_work(self, timeout_s: float) -> None:
        """Return when work may be available, or after ``timeout_s``."""
