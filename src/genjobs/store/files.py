"""Rows for stored files: who owns each, and when it expires."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, delete, insert, select

from genjobs.core.clock import now_ms
from genjobs.files.storage import StoredFile
from genjobs.store.tables import files


def add(
    conn: Connection,
    stored: StoredFile,
    *,
    owner_id: str,
    retention_ms: int,
    upload_path: str = "",
    task_id: str | None = None,
) -> int:
    """Record a stored file; returns its creation time (Unix ms)."""
    created = now_ms()
    conn.execute(
        insert(files).values(
            token=stored.token,
            owner_id=owner_id,
            kind=stored.kind,
            name=stored.name,
            upload_path=upload_path,
            size=stored.size,
            mime_type=stored.mime_type,
            task_id=task_id,
            created_at=created,
            expires_at=created + retention_ms,
        )
    )
    return created


def get(conn: Connection, token: str) -> RowMapping | None:
    return conn.execute(select(files).where(files.c.token == token)).mappings().first()


def owners(conn: Connection, tokens: list[str]) -> dict[str, str]:
    """The owning key of each of these files that exists."""
    query = select(files.c.token, files.c.owner_id).where(files.c.token.in_(tokens))
    return {token: owner for token, owner in conn.execute(query).all()}


def take_expired(conn: Connection, now: int, limit: int = 500) -> list[RowMapping]:
    """Remove and return the rows of files past their retention."""
    rows = list(conn.execute(select(files).where(files.c.expires_at < now).limit(limit)).mappings())
    if rows:
        conn.execute(delete(files).where(files.c.token.in_([row["token"] for row in rows])))
    return rows
