"""API keys: stored as SHA-256 hashes (keys are 256-bit random, so a slow hash adds
nothing), each with a credit balance."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, func, insert, select, update

from genjobs.core.clock import now_ms
from genjobs.store.prepared import Prepared
from genjobs.store.tables import api_keys

KEY_PREFIX = "gj_"


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def new_raw_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(
    conn: Connection,
    *,
    name: str,
    credits: float,
    is_admin: bool = False,
    raw_key: str | None = None,
) -> tuple[str, str]:
    """Store a key; returns (key id, the raw key, shown to the user once)."""
    raw_key = raw_key or new_raw_key()
    key_id = "key_" + secrets.token_hex(8)
    conn.execute(
        insert(api_keys).values(
            id=key_id,
            key_hash=hash_key(raw_key),
            name=name,
            is_admin=is_admin,
            credits=credits,
            created_at=now_ms(),
        )
    )
    return key_id, raw_key


def ensure_admin_key(conn: Connection, raw_key: str, credits: float) -> str:
    """Make sure ``raw_key`` exists as an active admin key (GENJOBS_API_KEY)."""
    row = conn.execute(
        select(api_keys.c.id).where(api_keys.c.key_hash == hash_key(raw_key))
    ).first()
    if row is not None:
        conn.execute(
            update(api_keys).where(api_keys.c.id == row.id).values(is_admin=True, revoked_at=None)
        )
        return str(row.id)
    key_id, _ = create_key(
        conn, name="admin (GENJOBS_API_KEY)", credits=credits, is_admin=True, raw_key=raw_key
    )
    return key_id


def count_active_admins(conn: Connection) -> int:
    query = select(func.count()).where(api_keys.c.is_admin, api_keys.c.revoked_at.is_(None))
    return int(conn.execute(query).scalar_one())


def find_active(conn: Connection, raw_key: str) -> RowMapping | None:
    query = select(api_keys).where(
        api_keys.c.key_hash == hash_key(raw_key), api_keys.c.revoked_at.is_(None)
    )
    return conn.execute(query).mappings().first()


def list_keys(conn: Connection) -> list[RowMapping]:
    query = select(api_keys).order_by(api_keys.c.created_at)
    return list(conn.execute(query).mappings())


def revoke(conn: Connection, key_id: str) -> bool:
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now_ms())
    )
    return result.rowcount == 1


def set_credits(conn: Connection, key_id: str, credits: float) -> bool:
    result = conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(credits=credits))
    return result.rowcount == 1


def balance(conn: Connection, key_id: str) -> float:
    value: Any = conn.execute(
        select(api_keys.c.credits).where(api_keys.c.id == key_id)
    ).scalar_one()
    return float(value)


# Prepared: createTask runs this on every call (see store.prepared).
_DEBIT = Prepared(
    update(api_keys)
    .where(api_keys.c.id == bindparam("key_id"), api_keys.c.credits >= bindparam("amount"))
    .values(credits=api_keys.c.credits - bindparam("amount"))
)


def debit(conn: Connection, key_id: str, amount: float) -> bool:
    """Take ``amount`` credits if the balance covers it (one conditional update)."""
    if amount <= 0:
        return True
    return _DEBIT.execute(conn, key_id=key_id, amount=amount) == 1


def refund(conn: Connection, key_id: str, amount: float) -> None:
    if amount > 0:
        conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(credits=api_keys.c.credits + amount)
        )


def get(conn: Connection, key_id: str) -> RowMapping | None:
    return conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()


def describe(row: RowMapping) -> dict[str, Any]:
    """A key as the admin API shows it (never its hash)."""
    return {
        "keyId": row["id"],
        "name": row["name"],
        "isAdmin": bool(row["is_admin"]),
        "credits": round(float(row["credits"]), 4),
        "createdAt": row["created_at"],
        "revokedAt": row["revoked_at"],
    }
