"""The SQLite backend's hand-off on a real SQLite database: new tasks move to ``queuing`` in the
transaction of the next write of the process, or on their own when no write comes within
the window, and never in a commit more than that."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from sqlalchemy import Connection, event

from genjobs.backends.sqlite import SqliteBackend
from genjobs.dispatch.events import TaskEvents
from genjobs.store import keys, lifecycle
from genjobs.store.database import Database

# Long enough that the steps of a scenario land well inside or well past it on a busy machine.
WINDOW_S = 0.2
POLICY = lifecycle.OutboxPolicy(max_attempts=3, retention_ms=86_400_000)


def new_task(db: Database, owner_id: str) -> str:
    new = lifecycle.NewTask(
        owner_id=owner_id,
        model="genjobs/echo",
        param='{"model": "genjobs/echo", "input": {"text": "hi"}}',
        price=0.0,
        callback_url=None,
        progress_callback_url=None,
        idempotency_key=None,
        request_hash=None,
    )
    return db.run_sync(lambda conn: lifecycle.create(conn, new))


def states(db: Database, *task_ids: str) -> list[str]:
    # On a connection of its own, so that reading counts no commit of the engine's.
    with sqlite3.connect(db.engine.url.database or "") as conn:
        rows = dict(conn.execute("SELECT id, state FROM tasks").fetchall())
    return [rows[task_id] for task_id in task_ids]


def count_commits(db: Database) -> list[int]:
    commits = [0]

    def counted(_conn: Any) -> None:
        commits[0] += 1

    event.listen(db.engine, "commit", counted)
    return commits


def a_write(conn: Connection) -> None:
    keys.create_key(conn, name="some other write", credits=0.0)


def test_hand_offs_ride_the_next_writes_and_cost_no_commit_of_their_own(db: Database) -> None:
    owner, _ = db.run_sync(lambda conn: keys.create_key(conn, name="owner", credits=10.0))
    first, second = new_task(db, owner), new_task(db, owner)
    commits = count_commits(db)

    async def scenario() -> None:
        backend = SqliteBackend(db, TaskEvents(), POLICY, flush_window_s=WINDOW_S)
        writes = backend.writes
        await backend.enqueue(first, "genjobs/echo")
        await writes.run(a_write)  # carries the first hand-off
        await asyncio.sleep(WINDOW_S / 2)
        await backend.enqueue(second, "genjobs/echo")
        # The first window ends while the second hand-off waits: it must leave that one to
        # the next write (or to its own window), not commit it on its own.
        await asyncio.sleep(WINDOW_S * 0.75)
        await writes.run(a_write)  # carries the second hand-off
        await asyncio.sleep(WINDOW_S * 1.5)  # both windows are over

    asyncio.run(scenario())
    assert states(db, first, second) == ["queuing", "queuing"]
    assert commits[0] == 2  # the two writes, nothing more


def test_a_hand_off_with_no_write_to_ride_commits_alone_after_the_window(db: Database) -> None:
    owner, _ = db.run_sync(lambda conn: keys.create_key(conn, name="owner", credits=10.0))
    task_id = new_task(db, owner)
    commits = count_commits(db)

    async def scenario() -> list[str]:
        backend = SqliteBackend(db, TaskEvents(), POLICY, flush_window_s=WINDOW_S)
        await backend.enqueue(task_id, "genjobs/echo")
        await asyncio.sleep(WINDOW_S / 2)
        waiting = states(db, task_id)
        await asyncio.sleep(WINDOW_S * 1.5)
        return waiting

    assert asyncio.run(scenario()) == ["waiting"]
    assert states(db, task_id) == ["queuing"]
    assert commits[0] == 1
