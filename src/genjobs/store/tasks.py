"""Task queries. Every state change is a conditional update from the expected state
(and attempt), so a stale worker can never overwrite a newer outcome."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    bindparam,
    func,
    insert,
    null,
    or_,
    select,
    update,
)

from genjobs.core.clock import now_ms
from genjobs.core.record import RECORD_COLUMNS, ZERO_UNTIL_FINISHED
from genjobs.core.states import CLAIM, ENQUEUE, SUCCEED, State, Transition
from genjobs.store.database import Database
from genjobs.store.prepared import Prepared
from genjobs.store.rows import TaskRow, task_row
from genjobs.store.tables import tasks

# A list page stops early once its params, results and messages pass this many characters,
# so a page of 100 large tasks cannot grow without bound.
LIST_PAGE_MAX_BYTES = 4 * 1024 * 1024

# What createTask stores; every other column starts at its server default.
_NEW_TASK_COLUMNS = (
    "id",
    "owner_id",
    "model",
    "param",
    "price",
    "callback_url",
    "progress_callback_url",
    "idempotency_key",
    "request_hash",
)
_INSERT = Prepared(
    insert(tasks).values(
        {
            **{name: bindparam(name) for name in _NEW_TASK_COLUMNS},
            "state": bindparam("state"),
            "create_time": bindparam("now"),
            "update_time": bindparam("now"),
        }
    )
)
# The prepared statements below compare with one literal state (an IN list would be an
# expanding parameter, which a statement compiled once cannot take).
(_ENQUEUE_FROM,) = ENQUEUE.sources
(_CLAIM_FROM,) = CLAIM.sources
(_SUCCEED_FROM,) = SUCCEED.sources
_ENQUEUE = Prepared(
    update(tasks)
    .where(tasks.c.id == bindparam("task_id"), tasks.c.state == _ENQUEUE_FROM)
    .values(
        state=ENQUEUE.target,
        update_time=bindparam("now"),
        queue_time=func.coalesce(tasks.c.queue_time, bindparam("now")),
    )
)


def insert_task(conn: Connection, **values: Any) -> None:
    """Store a new task as ``waiting``; ``values`` are the columns of _NEW_TASK_COLUMNS."""
    _INSERT.execute(conn, state=State.WAITING, now=now_ms(), **values)


def enqueue_many(conn: Connection, ids: Sequence[str]) -> None:
    """``waiting`` -> ``queuing`` for a batch of tasks (those still waiting)."""
    now = now_ms()
    _ENQUEUE.execute_many(conn, [{"task_id": task_id, "now": now} for task_id in ids])


# The record selected under kie's field names, so the row is the record as it stands.
_RECORD = select(
    *(
        (
            func.coalesce(tasks.c[column], 0) if column in ZERO_UNTIL_FINISHED else tasks.c[column]
        ).label(field)
        for field, column in RECORD_COLUMNS.items()
    )
)
_RECORD_BY_ID = Prepared(_RECORD.where(tasks.c.id == bindparam("task_id")))
_RECORD_BY_ID_AND_OWNER = Prepared(
    _RECORD.where(tasks.c.id == bindparam("task_id"), tasks.c.owner_id == bindparam("owner"))
)


async def read_record(
    db: Database, task_id: str, owner_id: str | None = None
) -> dict[str, Any] | None:
    """The task's kie record (recordInfo's ``data``): the hot path of polling, see
    store.prepared. None when it does not exist or (with ``owner_id``) is someone else's."""
    if owner_id is None:
        return await db.read_one(_RECORD_BY_ID, task_id=task_id)
    return await db.read_one(_RECORD_BY_ID_AND_OWNER, task_id=task_id, owner=owner_id)


def get(conn: Connection, task_id: str, owner_id: str | None = None) -> TaskRow | None:
    """The task, or None when it does not exist or (with ``owner_id``) is someone else's."""
    query = select(tasks).where(tasks.c.id == task_id)
    if owner_id is not None:
        query = query.where(tasks.c.owner_id == owner_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else task_row(row)


def find_by_idempotency_key(conn: Connection, owner_id: str, key: str) -> TaskRow | None:
    query = select(tasks).where(tasks.c.owner_id == owner_id, tasks.c.idempotency_key == key)
    row = conn.execute(query).mappings().first()
    return None if row is None else task_row(row)


def move(
    conn: Connection,
    task_id: str,
    transition: Transition,
    *,
    attempt: int | None = None,
    **values: Any,
) -> bool:
    """Move a task by a named transition if it is still in one of its source states (and,
    with ``attempt``, still in that run); False when it was not."""
    conditions = [tasks.c.id == task_id, tasks.c.state.in_(sorted(transition.sources))]
    if attempt is not None:
        conditions.append(tasks.c.attempt == attempt)
    values.setdefault("update_time", now_ms())
    statement = update(tasks).where(*conditions).values(state=transition.target, **values)
    return conn.execute(statement).rowcount == 1


_SUCCEED = Prepared(
    update(tasks)
    .where(
        tasks.c.id == bindparam("task_id"),
        tasks.c.state == _SUCCEED_FROM,
        tasks.c.attempt == bindparam("attempt"),
    )
    .values(
        state=SUCCEED.target,
        result_json=bindparam("result_json"),
        cost_time=bindparam("cost_time"),
        progress=100,
        complete_time=bindparam("now"),
        update_time=bindparam("now"),
        lease_until=null(),
    )
)


def succeed(conn: Connection, task_id: str, attempt: int, result_json: str, cost_time: int) -> bool:
    """``generating`` -> ``success`` with the result, if this attempt still owns the task."""
    moved = _SUCCEED.execute(
        conn,
        task_id=task_id,
        attempt=attempt,
        result_json=result_json,
        cost_time=cost_time,
        now=now_ms(),
    )
    return moved == 1


def _claim_statement(postgresql: bool) -> Prepared:
    """Claim the ``limit`` oldest queuing tasks of ``model`` in one statement."""
    oldest = (
        select(tasks.c.id)
        .where(tasks.c.state == _CLAIM_FROM, tasks.c.model == bindparam("model"))
        .order_by(tasks.c.create_time)
        .limit(bindparam("limit", type_=Integer))
    )
    if postgresql:  # several runners: each skips the rows another is claiming
        oldest = oldest.with_for_update(skip_locked=True)
    return Prepared(
        update(tasks)
        .where(tasks.c.id.in_(oldest))
        .values(
            state=CLAIM.target,
            attempt=tasks.c.attempt + 1,
            worker_id=bindparam("worker_id"),
            lease_until=bindparam("lease_until"),
            progress=0,
            update_time=bindparam("now"),
            start_time=bindparam("now"),
        )
        .returning(*tasks.c)
    )


_CLAIM = {postgresql: _claim_statement(postgresql) for postgresql in (False, True)}


def claim(
    conn: Connection, free_slots: Mapping[str, int], worker_id: str, lease_ms: int
) -> list[TaskRow]:
    """Take the oldest queuing tasks this worker has room for (``free_slots`` per model),
    each with a lease, in one transaction; oldest first."""
    statement = _CLAIM[conn.dialect.name == "postgresql"]
    now = now_ms()
    claimed: list[TaskRow] = []
    for model, free in free_slots.items():
        if free > 0:
            claimed += map(
                task_row,
                statement.fetch_all(
                    conn,
                    model=model,
                    limit=free,
                    worker_id=worker_id,
                    lease_until=now + lease_ms,
                    now=now,
                ),
            )
    return sorted(claimed, key=lambda row: row["create_time"])


def _update_running(
    conn: Connection, task_id: str, attempt: int, values: dict[str, Any], *conditions: Any
) -> bool:
    """Update a task only while it is generating in the caller's attempt (its lease)."""
    result = conn.execute(
        update(tasks)
        .where(
            tasks.c.id == task_id,
            tasks.c.state == State.GENERATING,
            tasks.c.attempt == attempt,
            *conditions,
        )
        .values(**values)
    )
    return result.rowcount == 1


def flag_cancel(conn: Connection, task_id: str, attempt: int) -> bool:
    """Ask the worker running the task (this attempt) to stop; not a change of state."""
    return _update_running(conn, task_id, attempt, {"cancel_requested": True})


def renew_lease(conn: Connection, task_id: str, attempt: int, lease_until: int) -> bool:
    return _update_running(conn, task_id, attempt, {"lease_until": lease_until})


def renew_leases(
    conn: Connection, rows: Sequence[Mapping[Any, Any]], until: int
) -> tuple[list[str], set[str]]:
    """Extend the leases of ``rows`` (their attempts); returns (ids whose lease was lost,
    ids asked to cancel)."""
    lost = [row["id"] for row in rows if not renew_lease(conn, row["id"], row["attempt"], until)]
    return lost, cancel_requested_ids(conn, [row["id"] for row in rows])


def set_progress(conn: Connection, task_id: str, attempt: int, progress: int) -> bool:
    values = {"progress": progress, "update_time": now_ms()}
    return _update_running(conn, task_id, attempt, values, tasks.c.progress < progress)


def ids_in_state(
    conn: Connection, state: State, *, older_than: int | None = None, limit: int = 500
) -> list[tuple[str, str]]:
    """(id, model) of tasks in ``state``, optionally last updated before ``older_than``."""
    query = select(tasks.c.id, tasks.c.model).where(tasks.c.state == state)
    if older_than is not None:
        query = query.where(tasks.c.update_time < older_than)
    rows = conn.execute(query.order_by(tasks.c.create_time).limit(limit))
    return [(row.id, row.model) for row in rows]


def expired_leases(conn: Connection, now: int) -> list[TaskRow]:
    query = select(tasks).where(
        tasks.c.state == State.GENERATING,
        or_(tasks.c.lease_until.is_(None), tasks.c.lease_until < now),
    )
    return [task_row(row) for row in conn.execute(query).mappings()]


def cancel_requested_ids(conn: Connection, task_ids: Sequence[str]) -> set[str]:
    if not task_ids:
        return set()
    query = select(tasks.c.id).where(tasks.c.id.in_(list(task_ids)), tasks.c.cancel_requested)
    return {row.id for row in conn.execute(query)}


def queue_depth(conn: Connection) -> dict[str, int]:
    query = (
        select(tasks.c.state, func.count())
        .where(tasks.c.state.in_([State.WAITING, State.QUEUING, State.GENERATING]))
        .group_by(tasks.c.state)
    )
    return {str(state): int(count) for state, count in conn.execute(query).all()}


# --- listing with a cursor ------------------------------------------------------------
# "<create_time>-<task id>": any string of this form is a position in the list (the page
# continues after it), so a cursor that matches the published pattern is never refused.
CURSOR_PATTERN = r"^[0-9]{1,15}-[A-Za-z0-9_]{1,64}$"


def encode_cursor(create_time: int, task_id: str) -> str:
    return f"{create_time}-{task_id}"


def decode_cursor(cursor: str) -> tuple[int, str]:
    """Raises ValueError for a string that is not of the cursor's form."""
    if not re.match(CURSOR_PATTERN, cursor):
        raise ValueError("not a cursor issued by this service")
    create_time, task_id = cursor.split("-", 1)
    return int(create_time), task_id


def list_page(
    conn: Connection,
    *,
    owner_id: str | None,
    state: str | None,
    model: str | None,
    limit: int,
    cursor: tuple[int, str] | None,
) -> tuple[list[TaskRow], str | None]:
    """Newest first; the cursor continues after the last task of the previous page."""
    query = select(tasks)
    if owner_id is not None:
        query = query.where(tasks.c.owner_id == owner_id)
    if state:
        query = query.where(tasks.c.state == state)
    if model:
        query = query.where(tasks.c.model == model)
    if cursor is not None:
        create_time, task_id = cursor
        query = query.where(
            or_(
                tasks.c.create_time < create_time,
                and_(tasks.c.create_time == create_time, tasks.c.id < task_id),
            )
        )
    query = query.order_by(tasks.c.create_time.desc(), tasks.c.id.desc()).limit(limit + 1)
    rows = [task_row(row) for row in conn.execute(query).mappings()]
    page = _within_budget(rows[:limit])
    next_cursor = None
    if len(page) < len(rows):
        next_cursor = encode_cursor(page[-1]["create_time"], page[-1]["id"])
    return page, next_cursor


def _within_budget(rows: list[TaskRow]) -> list[TaskRow]:
    """The longest run of ``rows`` whose texts fit LIST_PAGE_MAX_BYTES (at least one row):
    a page of large params or transcripts ends early and the cursor carries on from it."""
    total = 0
    for count, row in enumerate(rows):
        total += len(row["param"]) + len(row["result_json"]) + len(row["fail_msg"])
        if total > LIST_PAGE_MAX_BYTES and count > 0:
            return rows[:count]
    return rows
