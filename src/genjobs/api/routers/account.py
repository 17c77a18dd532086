"""Account endpoints: the credit balance (kie.ai) and who the calling key is."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from genjobs.api.deps import Caller, Svc
from genjobs.api.envelope import ok
from genjobs.core.errors import ApiError, Code
from genjobs.store import keys

router = APIRouter(prefix="/api/v1", tags=["account"])


@router.get("/chat/credit", summary="Remaining credits of the calling key")
async def credit(caller: Caller, svc: Svc) -> JSONResponse:
    balance = await svc.db.run(partial(keys.balance, key_id=caller.key_id))
    return ok(round(balance, 4))


@router.get("/account", summary="The calling key: id, name, admin or not, credits (genjobs)")
async def account(caller: Caller, svc: Svc) -> JSONResponse:
    row = await svc.db.run(partial(keys.get, key_id=caller.key_id))
    if row is None:  # revoked and deleted within the authentication cache's few seconds
        raise ApiError(Code.UNAUTHORIZED, "invalid or revoked API key")
    described = keys.describe(row)
    return ok({name: described[name] for name in ("keyId", "name", "isAdmin", "credits")})
