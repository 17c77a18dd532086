"""One state machine: tasks move only by the named transitions of core/states.py, each
checked against ALLOWED when defined. Every transition is walked from every state on
SQLite and on PostgreSQL: from its sources it moves the task, from anywhere else it
changes nothing."""

from __future__ import annotations

from itertools import product

import pytest
from sqlalchemy import text

from genjobs.core.states import ALLOWED, TRANSITIONS, State, Transition, transition
from genjobs.store import keys, tables, tasks
from genjobs.store.database import Database
from genjobs.store.rows import TaskRow
from tests.test_dispatch import new_task


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Database:
    fixture = "db" if request.param == "sqlite" else "pg_db"
    database: Database = request.getfixturevalue(fixture)
    return database


def test_only_allowed_moves_can_be_named() -> None:
    for source, target in product(State, State):
        if target in ALLOWED[source]:
            assert transition("t", {source}, target).target == target
        else:
            with pytest.raises(ValueError, match="is not allowed"):
                transition("t", {source}, target)
    # The named transitions cover every allowed move, each once.
    named = [(source, t.target) for t in TRANSITIONS for source in t.sources]
    allowed = [(source, target) for source, targets in ALLOWED.items() for target in targets]
    assert sorted(named) == sorted(allowed)


@pytest.mark.parametrize("move", TRANSITIONS, ids=lambda t: t.name)
def test_every_transition_from_every_state(database: Database, move: Transition) -> None:
    owner, _ = database.run_sync(lambda conn: keys.create_key(conn, name="sm", credits=100))
    for state in State:
        task_id = new_task(database, owner)
        database.run_sync(
            lambda conn, task_id=task_id, state=state: conn.execute(
                text("UPDATE tasks SET state = :state, attempt = 1 WHERE id = :id"),
                {"state": state.value, "id": task_id},
            )
        )
        moved = database.run_sync(
            lambda conn, task_id=task_id: tasks.move(conn, task_id, move, attempt=1)
        )
        after = database.run_sync(lambda conn, task_id=task_id: tasks.get(conn, task_id))
        assert after is not None
        assert moved == (state in move.sources), (move.name, state)
        assert after["state"] == (move.target if moved else state), (move.name, state)
    # From a source state but in another run's attempt: a stale runner moves nothing.
    stale = new_task(database, owner)
    source = next(iter(move.sources))
    database.run_sync(
        lambda conn: conn.execute(
            text("UPDATE tasks SET state = :state, attempt = 2 WHERE id = :id"),
            {"state": source.value, "id": stale},
        )
    )
    assert not database.run_sync(lambda conn: tasks.move(conn, stale, move, attempt=1))


def test_a_task_row_types_every_column_of_the_tasks_table() -> None:
    assert set(TaskRow.__annotations__) == {column.name for column in tables.tasks.columns}
