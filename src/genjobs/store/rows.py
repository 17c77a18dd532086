"""A task row, typed: every column of store.tables.tasks with its Python type, so a
misspelt column or a wrong type is a mypy error, not a KeyError in production. Rows leave
the store as TaskRow (tests/test_state_machine.py checks it lists every column)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast


class TaskRow(TypedDict):
    id: str
    owner_id: str
    model: str
    state: str
    param: str
    result_json: str
    fail_code: str
    fail_msg: str
    progress: int
    cost_time: int | None
    create_time: int
    update_time: int
    complete_time: int | None
    queue_time: int | None
    start_time: int | None
    price: float
    callback_url: str | None
    progress_callback_url: str | None
    attempt: int
    lease_until: int | None
    worker_id: str | None
    cancel_requested: bool
    idempotency_key: str | None
    request_hash: str | None


def task_row(row: Mapping[Any, Any]) -> TaskRow:
    """A row of the tasks table as read by SQLAlchemy (``.mappings()``)."""
    return cast(TaskRow, dict(row))
