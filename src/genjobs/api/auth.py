"""Bearer-key authentication. Keys are looked up by hash; the identity (not the balance)
is cached for a few seconds so a hot recordInfo loop does not hit the key table, which
means a revoked key stops working within ``CACHE_TTL_S``."""

from __future__ import annotations

import time
from functools import partial

from fastapi import Request

from genjobs.core.errors import ApiError, Code
from genjobs.core.principal import Principal
from genjobs.store import keys
from genjobs.store.database import Database

CACHE_TTL_S = 5.0


class Authenticator:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, tuple[Principal | None, float]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(Code.UNAUTHORIZED, "missing API key: send 'Authorization: Bearer <key>'")
        raw_key = authorization[7:].strip()
        cached = self._cache.get(raw_key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            principal = cached[0]
        else:
            row = await self._db.run(partial(keys.find_active, raw_key=raw_key))
            principal = None if row is None else Principal(row["id"], bool(row["is_admin"]))
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[raw_key] = (principal, now + CACHE_TTL_S)
        if principal is None:
            raise ApiError(Code.UNAUTHORIZED, "invalid or revoked API key")
        return principal


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the caller's key, or a 401."""
    authenticator: Authenticator = request.app.state.services.auth
    return await authenticator.authenticate(request.headers.get("authorization"))


async def admin_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller's key, which must be an admin key (else a 401)."""
    caller = await principal(request)
    if not caller.is_admin:
        raise ApiError(Code.UNAUTHORIZED, "this endpoint needs an admin key")
    return caller
