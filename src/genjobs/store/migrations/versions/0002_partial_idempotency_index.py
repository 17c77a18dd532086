"""idempotency keys: a partial unique index instead of a unique constraint

Most tasks have no Idempotency-Key; a constraint still indexes their NULL keys, one more
index page written by every createTask. The partial index holds only tasks that have a
key, and enforces the same uniqueness per owner.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HAS_KEY = sa.text("idempotency_key IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:  # SQLite: the table is rebuilt
        batch.drop_constraint("uq_tasks_owner_idempotency", type_="unique")
    op.create_index(
        "uq_tasks_owner_idempotency",
        "tasks",
        ["owner_id", "idempotency_key"],
        unique=True,
        sqlite_where=HAS_KEY,
        postgresql_where=HAS_KEY,
    )


def downgrade() -> None:
    op.drop_index("uq_tasks_owner_idempotency", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.create_unique_constraint(
            "uq_tasks_owner_idempotency", ["owner_id", "idempotency_key"]
        )
