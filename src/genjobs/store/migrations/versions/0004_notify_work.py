"""PostgreSQL: NOTIFY genjobs_work when a task enters the queue

Workers on other machines learn of new work from this notification instead of on their
next poll. A trigger, so no code path that queues a task can forget it, and
transactional: the notification is delivered when (and only if) the queueing commits.
The payload is the model's name; PostgreSQL folds identical notifications of one
transaction into one. SQLite has no such thing and needs none: its workers share the
process that queues.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 06:10:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION genjobs_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('genjobs_work', NEW.model);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER tasks_notify_work AFTER UPDATE OF state ON tasks FOR EACH ROW
        WHEN (NEW.state = 'queuing' AND OLD.state IS DISTINCT FROM NEW.state)
        EXECUTE FUNCTION genjobs_notify_work()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS tasks_notify_work ON tasks")
    op.execute("DROP FUNCTION IF EXISTS genjobs_notify_work()")
