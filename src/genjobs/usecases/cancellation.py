"""Cancelling a task: at once when no worker has it yet (it fails ``canceled``, refunded,
with its callback), else by flagging it for the worker running it, which stops the model
and records the cancellation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from genjobs.core.errors import invalid, task_not_found
from genjobs.core.principal import Principal
from genjobs.core.record import task_record
from genjobs.core.states import FINAL_STATES, State
from genjobs.store import lifecycle, tasks
from genjobs.usecases.ports import Ports


async def cancel(ports: Ports, caller: Principal, task_id: str) -> dict[str, Any]:
    """The task's record after the request: ``fail``/``canceled`` when it had not started,
    still ``generating`` when its worker was asked to stop."""

    def request(conn: Connection) -> dict[str, Any]:
        row = tasks.get(conn, task_id, caller.owner_filter)
        if row is None:
            raise task_not_found(task_id)
        if row["state"] in FINAL_STATES:
            raise invalid("taskId", f"the task already finished (state {row['state']})")
        lifecycle.request_cancel(conn, row, ports.policy)
        updated = tasks.get(conn, task_id)
        assert updated is not None  # read in this same transaction
        return task_record(updated)

    record = await ports.db.run(request)
    ports.events.changed(task_id)
    if record["state"] == State.GENERATING:
        ports.events.cancel_requested.put_nowait(task_id)
    else:
        ports.events.outbox_written()  # the cancellation's callback is in the outbox
    return record
