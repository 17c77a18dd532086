"""The task life cycle as transactions: create (with the debit), finish (with the refund,
the result files and the callback outbox) and cancel. Each function takes the
connection of one transaction, so a state change and its side effects commit together."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from genjobs.core.clock import now_ms
from genjobs.core.errors import InsufficientCredits, invalid, task_not_found
from genjobs.core.record import callback_body
from genjobs.core.states import (
    CANCEL_UNSTARTED,
    FAIL_RUN,
    FINAL_STATES,
    REQUEUE,
    FailCode,
    State,
    Transition,
)
from genjobs.files.storage import StoredFile
from genjobs.store import deliveries, files, keys, tasks
from genjobs.store.rows import TaskRow


@dataclass(frozen=True)
class NewTask:
    owner_id: str
    model: str
    param: str
    price: float
    callback_url: str | None
    progress_callback_url: str | None
    idempotency_key: str | None
    request_hash: str | None


@dataclass(frozen=True)
class OutboxPolicy:
    max_attempts: int
    retention_ms: int


def new_task_id() -> str:
    return secrets.token_hex(16)


def create(conn: Connection, new: NewTask) -> str:
    """Store the task as ``waiting`` and debit its price; 402 when the balance is short."""
    if not keys.debit(conn, new.owner_id, new.price):
        raise InsufficientCredits(
            f"insufficient credits: this task costs {new.price:g}, "
            f"the balance is {keys.balance(conn, new.owner_id):g}"
        )
    task_id = new_task_id()
    tasks.insert_task(
        conn,
        id=task_id,
        owner_id=new.owner_id,
        model=new.model,
        param=new.param,
        price=new.price,
        callback_url=new.callback_url,
        progress_callback_url=new.progress_callback_url,
        idempotency_key=new.idempotency_key,
        request_hash=new.request_hash,
    )
    return task_id


def create_once(conn: Connection, new: NewTask) -> tuple[str, bool]:
    """Create the task, or return the earlier one made with the same Idempotency-Key:
    (task id, created). Group-committed: every refusal comes before anything is written."""
    if new.idempotency_key:
        earlier = tasks.find_by_idempotency_key(conn, new.owner_id, new.idempotency_key)
        if earlier is not None:
            if earlier["request_hash"] != new.request_hash:
                raise invalid(
                    "Idempotency-Key",
                    "this key was already used with a different request body",
                )
            return str(earlier["id"]), False
    return create(conn, new), True


def _write_callback(conn: Connection, task_id: str, policy: OutboxPolicy) -> None:
    """Queue the final callback (the row is re-read for its final fields)."""
    row = tasks.get(conn, task_id)
    if row is None or not row["callback_url"]:
        return
    body = callback_body(row, keys.balance(conn, row["owner_id"]))
    deliveries.enqueue(
        conn,
        task_id=task_id,
        kind="final",
        url=row["callback_url"],
        body=body,
        max_attempts=policy.max_attempts,
    )


def finish_success(
    conn: Connection,
    task: TaskRow,
    *,
    result_json: str,
    cost_time: int,
    outputs: Iterable[StoredFile],
    policy: OutboxPolicy,
) -> bool:
    if not tasks.succeed(conn, task["id"], task["attempt"], result_json, cost_time):
        return False
    for stored in outputs:
        files.add(
            conn,
            stored,
            owner_id=task["owner_id"],
            retention_ms=policy.retention_ms,
            task_id=task["id"],
        )
    if task["callback_url"]:
        _write_callback(conn, task["id"], policy)
    return True


def finish_failure(
    conn: Connection,
    task_id: str,
    *,
    code: str,
    message: str,
    policy: OutboxPolicy,
    via: Transition = FAIL_RUN,
    attempt: int | None = None,
    cost_time: int | None = None,
) -> bool:
    """Fail a task by ``via`` (if it still can), refund its price, queue its callback."""
    assert via.target == State.FAIL, via
    row = tasks.get(conn, task_id)
    if row is None:
        return False
    now = now_ms()
    moved = tasks.move(
        conn,
        task_id,
        via,
        attempt=attempt,
        fail_code=code,
        fail_msg=message,
        cost_time=cost_time,
        complete_time=now,
        update_time=now,
        lease_until=None,
    )
    if not moved:
        return False
    keys.refund(conn, row["owner_id"], row["price"])
    if row["callback_url"]:
        _write_callback(conn, task_id, policy)
    return True


def fail_run(
    conn: Connection,
    row: TaskRow,
    *,
    code: str,
    message: str,
    policy: OutboxPolicy,
    cost_ms: int | None = None,
) -> bool:
    """Fail a ``generating`` task in ``row``'s attempt: refund, final callback."""
    return finish_failure(
        conn,
        row["id"],
        code=code,
        message=message,
        policy=policy,
        via=FAIL_RUN,
        attempt=row["attempt"],
        cost_time=cost_ms,
    )


def requeue(conn: Connection, row: TaskRow) -> bool:
    """Hand a ``generating`` task back to the queue; its next claim is a new attempt."""
    return tasks.move(
        conn,
        row["id"],
        REQUEUE,
        attempt=row["attempt"],
        lease_until=None,
        worker_id=None,
        progress=0,
    )


def cancel(conn: Connection, task_id: str, owner_id: str | None, policy: OutboxPolicy) -> TaskRow:
    """Cancel a task of ``owner_id`` (None: anyone's) by request_cancel; its row after.
    Refuses (not found, already finished) before it writes."""
    row = tasks.get(conn, task_id, owner_id)
    if row is None:
        raise task_not_found(task_id)
    if row["state"] in FINAL_STATES:
        raise invalid("taskId", f"the task already finished (state {row['state']})")
    request_cancel(conn, row, policy)
    updated = tasks.get(conn, task_id)
    assert updated is not None  # read in this same transaction
    return updated


def request_cancel(conn: Connection, task: TaskRow, policy: OutboxPolicy) -> bool:
    """Cancel now if no worker has it; else flag it for the worker. False if already final."""
    if task["state"] in (State.WAITING, State.QUEUING):
        if finish_failure(
            conn,
            task["id"],
            code=FailCode.CANCELED,
            message="the task was canceled before it started",
            policy=policy,
            via=CANCEL_UNSTARTED,
        ):
            return True
        task = tasks.get(conn, task["id"]) or task
    if task["state"] == State.GENERATING:
        return tasks.flag_cancel(conn, task["id"], task["attempt"])
    return False


def report_progress(
    conn: Connection, task: TaskRow, progress: int, policy: OutboxPolicy, callback: bool
) -> None:
    """Raise the progress of ``task``'s attempt (only ever upwards: a stale run writes
    nothing) and, with ``callback``, queue a progress callback."""
    if tasks.set_progress(conn, task["id"], task["attempt"], progress) and callback:
        progress_event(conn, task, progress, policy)


def progress_event(conn: Connection, task: TaskRow, progress: int, policy: OutboxPolicy) -> None:
    if task["progress_callback_url"]:
        deliveries.enqueue(
            conn,
            task_id=task["id"],
            kind="progress",
            url=task["progress_callback_url"],
            body={
                "code": 200,
                "msg": "progress",
                "data": {"taskId": task["id"], "state": "generating", "progress": progress},
            },
            max_attempts=min(3, policy.max_attempts),
        )
