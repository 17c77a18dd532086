"""Schema upgrades keep the data: a database made by an older genjobs, holding tasks that
deliveries refer to, is migrated to the newest revision on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from genjobs.config import Settings
from genjobs.store import database


def upgrade_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_upgrade_from_the_first_schema_keeps_tasks_and_their_deliveries(
    settings: Settings,
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = database.make_engine(settings.sqlalchemy_url)
    try:
        upgrade_to(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO api_keys (id, key_hash, created_at) VALUES ('k', 'h', 1)")
            )
            for task_id, key in (("t1", "same-key"), ("t2", None)):
                conn.execute(
                    text(
                        "INSERT INTO tasks (id, owner_id, model, state, param, create_time,"
                        " update_time, idempotency_key)"
                        " VALUES (:id, 'k', 'genjobs/echo', 'success', '{}', 1, 2, :key)"
                    ),
                    {"id": task_id, "key": key},
                )
            conn.execute(
                text(
                    "INSERT INTO deliveries (message_id, task_id, kind, url, body, status,"
                    " max_attempts, next_attempt_at, created_at)"
                    " VALUES ('m1', 't1', 'final', 'http://x', '{}', 'pending', 3, 1, 1)"
                )
            )

        database.migrate(engine)
        database.migrate(engine)  # a second start finds nothing to do

        with engine.begin() as conn:
            assert conn.execute(text("SELECT id FROM tasks ORDER BY id")).scalars().all() == [
                "t1",
                "t2",
            ]
            assert conn.execute(text("SELECT task_id FROM deliveries")).scalar() == "t1"
        # Still one task per (owner, Idempotency-Key), and any number without a key.
        insert = text(
            "INSERT INTO tasks (id, owner_id, model, state, param, create_time, update_time,"
            " idempotency_key) VALUES (:id, 'k', 'genjobs/echo', 'waiting', '{}', 3, 3, :key)"
        )
        with engine.begin() as conn:
            conn.execute(insert, {"id": "t3", "key": None})
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, {"id": "t4", "key": "same-key"})
        if engine.dialect.name == "sqlite":  # and foreign keys are enforced again
            with pytest.raises(IntegrityError), engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO deliveries (message_id, task_id, kind, url, body, status,"
                        " max_attempts, next_attempt_at, created_at)"
                        " VALUES ('m2', 'missing', 'final', 'http://x', '{}', 'pending', 3, 1, 1)"
                    )
                )
    finally:
        engine.dispose()
