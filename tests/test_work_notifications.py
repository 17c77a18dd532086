"""Wake-ups across processes on PostgreSQL: queueing a task, from any connection, notifies
every listener with the task's model, and only once the queueing has committed."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from genjobs.backends import open_backend
from genjobs.config import Settings
from genjobs.dispatch.events import TaskEvents
from genjobs.store import keys, tasks
from genjobs.store.database import Database
from tests.test_dispatch import POLICY, new_task


async def woken_for(events: TaskEvents, timeout_s: float = 10.0) -> set[str] | None:
    async with asyncio.timeout(timeout_s):
        await events.work_available.wait()
    return events.take_work()


def test_queueing_a_task_wakes_a_listener_with_its_model(pg_db: Database) -> None:
    owner, _ = pg_db.run_sync(lambda conn: keys.create_key(conn, name="w", credits=10))
    task_id = new_task(pg_db, owner)  # stored as waiting: nothing to claim yet

    async def scenario() -> None:
        events = TaskEvents()
        listener = open_backend(pg_db, events, POLICY).start_wakeups()
        assert listener is not None
        try:
            # On connecting the listener reports "any model": work may have been queued
            # while nobody listened.
            assert await woken_for(events) is None
            await asyncio.sleep(0.2)
            assert not events.work_available.is_set()  # a stored task is not queued work

            # Queued in a transaction that rolls back: no notification.
            def queue_then_roll_back() -> None:
                with pg_db.engine.connect() as conn:
                    tasks.enqueue_many(conn, [task_id])
                    conn.rollback()

            await asyncio.to_thread(queue_then_roll_back)
            await asyncio.sleep(0.3)
            assert not events.work_available.is_set()

            # Queued and committed, by another connection as an API node would: woken
            # with the model's name.
            await asyncio.to_thread(
                pg_db.run_sync, lambda conn: tasks.enqueue_many(conn, [task_id])
            )
            assert await woken_for(events) == {"genjobs/echo"}
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    asyncio.run(scenario())


def test_no_listener_on_sqlite_or_when_turned_off(tmp_path: Path, postgres_url: str) -> None:
    async def scenario() -> None:
        sqlite = Database(Settings(data_dir=tmp_path).sqlalchemy_url)
        postgres = Database(postgres_url)  # connects only when used
        try:
            assert open_backend(sqlite, TaskEvents(), POLICY).start_wakeups() is None
            off = open_backend(postgres, TaskEvents(), POLICY, listen_for_work=False)
            assert off.start_wakeups() is None
        finally:
            sqlite.dispose()
            postgres.dispose()

    asyncio.run(scenario())
