"""Admin endpoints (genjobs additions, admin keys only): API keys and the overview of
the last hour or day. The same operations as `genjobs keys ...`, over HTTP, for the
dashboard and for operators who do not run commands on the server."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from genjobs.api.auth import admin_principal
from genjobs.api.deps import Svc
from genjobs.api.envelope import ok
from genjobs.core.clock import now_ms
from genjobs.core.errors import ApiError, Code, invalid
from genjobs.core.principal import Principal
from genjobs.store import keys, stats

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
Admin = Annotated[Principal, Depends(admin_principal)]
MAX_CREDITS = 1e12


class NewKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # 0 is not false, "1" not 1

    name: str = Field(default="", max_length=200, description="A label for the key.")
    credits: float = Field(ge=0, le=MAX_CREDITS, description="Starting balance.")
    isAdmin: bool = Field(default=False, description="Sees and manages every task and key.")


class KeyIdBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # 0 is not false, "1" not 1

    keyId: str = Field(min_length=1, max_length=32, description="The key's id (not the key).")


class CreditsBody(KeyIdBody):
    credits: float = Field(ge=0, le=MAX_CREDITS, description="The new balance.")


class KeyOut(BaseModel):
    keyId: str
    name: str
    isAdmin: bool
    credits: float
    createdAt: int = Field(description="Unix milliseconds.")
    revokedAt: int | None = Field(description="Unix milliseconds; null while active.")


class NewKeyOut(KeyOut):
    key: str = Field(description="The API key itself: this answer is the only time it is shown.")


class _Envelope(BaseModel):
    code: int
    msg: str
    message: str


class KeyAnswer(_Envelope):
    data: KeyOut


class NewKeyAnswer(_Envelope):
    data: NewKeyOut


class KeysAnswer(_Envelope):
    data: list[KeyOut]


def _no_key(key_id: str) -> ApiError:
    return ApiError(Code.NOT_FOUND, f"key not found: {key_id}")


@router.get(
    "/keys",
    summary="Every API key, oldest first (never the keys themselves)",
    responses={200: {"model": KeysAnswer}},
)
async def list_keys(_admin: Admin, svc: Svc) -> JSONResponse:
    rows = await svc.db.run(keys.list_keys)
    return ok([keys.describe(row) for row in rows])


@router.post(
    "/keys",
    summary="Create a key; the answer is the only time it is shown",
    responses={200: {"model": NewKeyAnswer}},
)
async def create_key(body: NewKeyBody, _admin: Admin, svc: Svc) -> JSONResponse:
    def create(conn: Connection) -> dict[str, Any]:
        key_id, raw_key = keys.create_key(
            conn, name=body.name, credits=body.credits, is_admin=body.isAdmin
        )
        row = keys.get(conn, key_id)
        assert row is not None  # written just above, in this transaction
        return {"key": raw_key, **keys.describe(row)}

    return ok(await svc.db.run(create))


@router.post(
    "/keys/revoke",
    summary="Revoke a key (effective within 5 s)",
    responses={200: {"model": KeyAnswer}},
)
async def revoke_key(body: KeyIdBody, admin: Admin, svc: Svc) -> JSONResponse:
    if body.keyId == admin.key_id:
        raise invalid("keyId", "is the key making this request; revoke it with another admin key")

    def revoke(conn: Connection) -> dict[str, Any]:
        if keys.get(conn, body.keyId) is None:
            raise _no_key(body.keyId)
        keys.revoke(conn, body.keyId)  # revoking a revoked key keeps its first revokedAt
        row = keys.get(conn, body.keyId)
        assert row is not None
        return keys.describe(row)

    return ok(await svc.db.run(revoke))


@router.post(
    "/keys/credits", summary="Set a key's credit balance", responses={200: {"model": KeyAnswer}}
)
async def set_credits(body: CreditsBody, _admin: Admin, svc: Svc) -> JSONResponse:
    def update(conn: Connection) -> dict[str, Any]:
        if not keys.set_credits(conn, body.keyId, body.credits):
            raise _no_key(body.keyId)
        row = keys.get(conn, body.keyId)
        assert row is not None
        return keys.describe(row)

    return ok(await svc.db.run(update))


@router.get("/stats", summary="Per-model counts, failure rates and latencies, and a series")
async def overview(
    _admin: Admin,
    svc: Svc,
    window: Annotated[
        Literal["hour", "day"], Query(description="Tasks created in the last hour or day.")
    ] = "hour",
) -> JSONResponse:
    # A day of tasks can be a long read: on a worker thread, never on the event loop
    # (where SQLite reads otherwise run) and so never in the way of the API's requests.
    read = partial(stats.overview, window=window, now=now_ms())
    return ok(await anyio.to_thread.run_sync(svc.db.run_sync, read))
