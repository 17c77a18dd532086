"""The change feed behind the dashboard's live task list: which of an owner's tasks were
created or changed since the last look. Only indexed reads: new tasks by creation order
(ix_tasks_owner_created / ix_tasks_created), and the unfinished ones by primary key,
so a feed costs the same on a table of a million finished tasks as on an empty one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, RowMapping, and_, or_, select

from genjobs.core.states import ACTIVE_STATES
from genjobs.store.tables import tasks

BATCH = 200  # rows read per look; the rest follow on the next look


@dataclass
class FeedPosition:
    """What the reader has seen: the newest task by (create_time, id), and the version
    (update_time) of every task it saw unfinished."""

    created: tuple[int, str]
    unfinished: dict[str, int] = field(default_factory=dict)


def start(conn: Connection, owner_id: str | None, now: int) -> FeedPosition:
    """A position at ``now``: later tasks are new; the tasks unfinished now are watched."""
    query = select(tasks.c.id, tasks.c.update_time).where(tasks.c.state.in_(ACTIVE_STATES))
    if owner_id is not None:
        query = query.where(tasks.c.owner_id == owner_id)
    return FeedPosition(created=(now, ""), unfinished=dict(conn.execute(query).tuples().all()))


def read(conn: Connection, owner_id: str | None, position: FeedPosition) -> list[RowMapping]:
    """The tasks created or changed since ``position`` (which is advanced), oldest first."""
    changed = _new_tasks(conn, owner_id, position) + _changed_tasks(conn, position)
    for row in changed:
        if row["state"] in ACTIVE_STATES:
            position.unfinished[row["id"]] = row["update_time"]
        else:
            position.unfinished.pop(row["id"], None)
    return changed


def _new_tasks(conn: Connection, owner_id: str | None, position: FeedPosition) -> list[RowMapping]:
    create_time, task_id = position.created
    query = select(tasks).where(
        or_(
            tasks.c.create_time > create_time,
            and_(tasks.c.create_time == create_time, tasks.c.id > task_id),
        )
    )
    if owner_id is not None:
        query = query.where(tasks.c.owner_id == owner_id)
    query = query.order_by(tasks.c.create_time, tasks.c.id).limit(BATCH)
    rows = list(conn.execute(query).mappings())
    if rows:
        position.created = (rows[-1]["create_time"], rows[-1]["id"])
    # A task seen unfinished at start() and created in the same millisecond is not new.
    return [row for row in rows if position.unfinished.get(row["id"]) != row["update_time"]]


def _changed_tasks(conn: Connection, position: FeedPosition) -> list[RowMapping]:
    watched = list(position.unfinished.items())
    changed: list[str] = []
    for chunk in _chunks(watched, 500):
        versions = dict(chunk)
        query = select(tasks.c.id, tasks.c.update_time).where(tasks.c.id.in_(list(versions)))
        changed += [
            task_id
            for task_id, update_time in conn.execute(query).tuples()
            if update_time != versions[task_id]
        ]
    if not changed:
        return []
    query = select(tasks).where(tasks.c.id.in_(changed[:BATCH])).order_by(tasks.c.update_time)
    return list(conn.execute(query).mappings())


def _chunks(items: Sequence[tuple[str, int]], size: int) -> list[Sequence[tuple[str, int]]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
