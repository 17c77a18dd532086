"""Task backends: the task operations the use cases and the runner need, one module per
database (see base.TaskBackend). ``open_backend`` picks the one for a database URL."""

from __future__ import annotations

from genjobs.backends.base import ClaimRequest, Row, TaskBackend
from genjobs.backends.factory import open_backend

__all__ = ["ClaimRequest", "Row", "TaskBackend", "open_backend"]
