"""task timeline: when a task entered the queue and when its latest run started

createTime and completeTime were already kept; the dashboard's timeline and the admin
overview's queue latency need the two moments in between. Both stay NULL for tasks made
before this revision (and until the task reaches that point).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("queue_time", sa.BigInteger(), nullable=True))
    op.add_column("tasks", sa.Column("start_time", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:  # SQLite: the table is rebuilt
        batch.drop_column("start_time")
        batch.drop_column("queue_time")
