"""The callback outbox: written in the transaction that finishes a task, delivered later,
every attempt stored."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from genjobs.core.clock import now_ms
from genjobs.store.tables import deliveries, delivery_attempts

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def enqueue(
    conn: Connection, *, task_id: str, kind: str, url: str, body: dict[str, Any], max_attempts: int
) -> None:
    now = now_ms()
    conn.execute(
        insert(deliveries).values(
            message_id="msg_" + secrets.token_hex(12),
            task_id=task_id,
            kind=kind,
            url=url,
            body=json.dumps(body, separators=(",", ":")),
            status=PENDING,
            attempts=0,
            max_attempts=max_attempts,
            next_attempt_at=now,
            created_at=now,
        )
    )


def claim_due(conn: Connection, now: int, lease_ms: int, limit: int = 50) -> list[RowMapping]:
    """Take the deliveries that are due: each is pushed ``lease_ms`` into the future by a
    conditional update, so no other round (or server) sends it while this one does."""
    query = (
        select(deliveries)
        .where(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now)
        .order_by(deliveries.c.next_attempt_at)
        .limit(limit)
    )
    claimed = []
    for row in conn.execute(query).mappings().all():
        result = conn.execute(
            update(deliveries)
            .where(
                deliveries.c.id == row["id"],
                deliveries.c.status == PENDING,
                deliveries.c.attempts == row["attempts"],
                deliveries.c.next_attempt_at == row["next_attempt_at"],
            )
            .values(next_attempt_at=now + lease_ms)
        )
        if result.rowcount == 1:
            claimed.append(row)
    return claimed


def next_due_at(conn: Connection) -> int | None:
    query = (
        select(deliveries.c.next_attempt_at)
        .where(deliveries.c.status == PENDING)
        .order_by(deliveries.c.next_attempt_at)
        .limit(1)
    )
    value = conn.execute(query).scalar()
    return None if value is None else int(value)


def record_attempt(
    conn: Connection,
    delivery: RowMapping,
    *,
    status_code: int | None,
    error: str,
    duration_ms: int,
    delivered: bool,
    retry_at: int | None,
) -> None:
    """Store one attempt and move the delivery on: delivered, retried later, or failed."""
    attempts = delivery["attempts"] + 1
    if delivered:
        status = DELIVERED
    elif retry_at is None or attempts >= delivery["max_attempts"]:
        status = FAILED
    else:
        status = PENDING
    conn.execute(
        insert(delivery_attempts).values(
            delivery_id=delivery["id"],
            attempted_at=now_ms(),
            status_code=status_code,
            error=error[:2000],
            duration_ms=duration_ms,
        )
    )
    conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery["id"])
        .values(attempts=attempts, status=status, next_attempt_at=retry_at or now_ms())
    )


def for_task(conn: Connection, task_id: str) -> list[dict[str, Any]]:
    """Every delivery of a task with its attempts, oldest first (for the API)."""
    rows = conn.execute(
        select(deliveries).where(deliveries.c.task_id == task_id).order_by(deliveries.c.id)
    ).mappings()
    result = []
    for row in rows:
        attempts = conn.execute(
            select(delivery_attempts)
            .where(delivery_attempts.c.delivery_id == row["id"])
            .order_by(delivery_attempts.c.id)
        ).mappings()
        result.append(
            {
                "id": row["message_id"],
                "kind": row["kind"],
                "url": row["url"],
                "status": row["status"],
                "attempts": [
                    {
                        "attemptedAt": attempt["attempted_at"],
                        "statusCode": attempt["status_code"],
                        "error": attempt["error"],
                        "durationMs": attempt["duration_ms"],
                    }
                    for attempt in attempts
                ],
                "nextAttemptAt": row["next_attempt_at"] if row["status"] == PENDING else None,
                "createdAt": row["created_at"],
            }
        )
    return result
