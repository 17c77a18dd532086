"""Group commit on a real SQLite database: functions that arrive together share one
transaction, yet each gets its own outcome, and one that breaks the contract (fails
after writing) cannot lose or leak the others' writes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import Connection, func, select

from genjobs.core.errors import InvalidInput, Refused
from genjobs.store import keys
from genjobs.store.database import Database
from genjobs.store.group_commit import GroupCommit
from genjobs.store.tables import api_keys


def named(conn: Connection, name: str) -> int:
    return int(conn.execute(select(func.count()).where(api_keys.c.name == name)).scalar_one())


def add_key(name: str, then_fail: bool = False) -> Callable[[Connection], str]:
    def write(conn: Connection) -> str:
        key_id, _ = keys.create_key(conn, name=name, credits=1.0)
        if then_fail:
            raise RuntimeError(f"{name} broke after writing")
        return key_id

    return write


def refuse(conn: Connection) -> str:
    raise InvalidInput("refused before writing")


def test_a_refusal_in_the_batch_is_only_its_own_answer(db: Database) -> None:
    async def scenario() -> tuple[object, ...]:
        group = GroupCommit(db)
        return await asyncio.gather(
            group.run(add_key("first")),
            group.run(refuse),
            group.run(add_key("second")),
            return_exceptions=True,
        )

    first, refused, second = asyncio.run(scenario())
    assert isinstance(first, str) and isinstance(second, str) and first != second
    assert isinstance(refused, Refused) and refused.message == "refused before writing"
    assert db.run_sync(lambda c: (named(c, "first"), named(c, "second"))) == (1, 1)


def test_a_failure_after_writing_rolls_back_only_its_own_write(db: Database) -> None:
    async def scenario() -> tuple[object, ...]:
        group = GroupCommit(db)
        return await asyncio.gather(
            group.run(add_key("kept")),
            group.run(add_key("broken", then_fail=True)),
            group.run(refuse),
            group.run(add_key("also kept")),
            return_exceptions=True,
        )

    kept, broken, refused, also_kept = asyncio.run(scenario())
    assert isinstance(kept, str) and isinstance(also_kept, str)
    assert isinstance(broken, RuntimeError) and isinstance(refused, Refused)
    counts = db.run_sync(lambda c: (named(c, "kept"), named(c, "broken"), named(c, "also kept")))
    assert counts == (1, 0, 1)  # written once each (not twice by the retry), "broken" not at all


def test_a_rider_is_written_by_the_next_batch_and_survives_a_broken_one(db: Database) -> None:
    def rider(name: str) -> Callable[[Connection], None]:
        def write(conn: Connection) -> None:
            keys.create_key(conn, name=name, credits=1.0)

        return write

    async def scenario() -> tuple[int, tuple[object, ...]]:
        group = GroupCommit(db)
        group.ride(rider("rider"))
        before_any_batch = db.run_sync(lambda c: named(c, "rider"))
        await group.run(add_key("carrier"))
        group.ride(rider("rider of a broken batch"))
        outcomes = await asyncio.gather(
            group.run(add_key("broken", then_fail=True)), return_exceptions=True
        )
        return before_any_batch, outcomes

    before_any_batch, (broken,) = asyncio.run(scenario())
    assert before_any_batch == 0  # a rider waits for a batch; it starts none
    assert isinstance(broken, RuntimeError)
    counts = db.run_sync(
        lambda c: (named(c, "rider"), named(c, "carrier"), named(c, "rider of a broken batch"))
    )
    assert counts == (1, 1, 1)
