"""Cancelling a task: at once when no worker has it yet (it fails ``canceled``, refunded,
with its callback), else by flagging it for the worker running it, which stops the model
and records the cancellation."""

from __future__ import annotations

from typing import Any

from genjobs.core.principal import Principal
from genjobs.core.record import task_record
from genjobs.core.states import State
from genjobs.usecases.ports import Ports


async def cancel(ports: Ports, caller: Principal, task_id: str) -> dict[str, Any]:
    """The task's record after the request: ``fail``/``canceled`` when it had not started,
    still ``generating`` when its worker was asked to stop."""
    record = task_record(await ports.backend.cancel(task_id, caller.owner_filter))
    ports.events.changed(task_id)
    if record["state"] == State.GENERATING:
        ports.events.cancel_requested.put_nowait(task_id)
    else:
        ports.events.outbox_written()  # the cancellation's callback is in the outbox
    return record
