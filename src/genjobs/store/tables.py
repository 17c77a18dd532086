"""SQLAlchemy Core tables; Alembic migrations under ``migrations/`` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("is_admin", Boolean, nullable=False, server_default="0"),
    Column("credits", Float, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner_id", String(32), ForeignKey("api_keys.id"), nullable=False),
    Column("model", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("param", Text, nullable=False),
    Column("result_json", Text, nullable=False, server_default=""),
    Column("fail_code", String(64), nullable=False, server_default=""),
    Column("fail_msg", Text, nullable=False, server_default=""),
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("cost_time", BigInteger, nullable=True),
    Column("create_time", BigInteger, nullable=False),
    Column("update_time", BigInteger, nullable=False),
    Column("complete_time", BigInteger, nullable=True),
    Column("queue_time", BigInteger, nullable=True),  # first entered the queue
    Column("start_time", BigInteger, nullable=True),  # its latest run started
    Column("price", Float, nullable=False, server_default="0"),
    Column("callback_url", Text, nullable=True),
    Column("progress_callback_url", Text, nullable=True),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("lease_until", BigInteger, nullable=True),
    Column("worker_id", String(64), nullable=True),
    Column("cancel_requested", Boolean, nullable=False, server_default="0"),
    Column("idempotency_key", String(200), nullable=True),
    Column("request_hash", String(64), nullable=True),
    # Partial: only tasks created with an Idempotency-Key are indexed (migration 0002).
    Index(
        "uq_tasks_owner_idempotency",
        "owner_id",
        "idempotency_key",
        unique=True,
        sqlite_where=text("idempotency_key IS NOT NULL"),
        postgresql_where=text("idempotency_key IS NOT NULL"),
    ),
    Index("ix_tasks_state_model", "state", "model", "create_time"),
    Index("ix_tasks_owner_created", "owner_id", "create_time", "id"),
    Index("ix_tasks_created", "create_time", "id"),
)

files = Table(
    "files",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("owner_id", String(32), ForeignKey("api_keys.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("upload_path", String(500), nullable=False, server_default=""),
    Column("size", BigInteger, nullable=False),
    Column("mime_type", String(200), nullable=False),
    Column("task_id", String(40), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_files_expires", "expires_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("task_id", String(40), ForeignKey("tasks.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # final | progress
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_task", "task_id"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("attempted_at", BigInteger, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=False, server_default=""),
    Column("duration_ms", Integer, nullable=False),
)
