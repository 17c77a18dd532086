"""Account endpoints of kie.ai: the credit balance."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from genjobs.api.auth import Principal, principal
from genjobs.api.envelope import ok
from genjobs.api.services import Services, services
from genjobs.store import keys

router = APIRouter(prefix="/api/v1", tags=["account"])


@router.get("/chat/credit", summary="Remaining credits of the calling key")
async def credit(
    caller: Annotated[Principal, Depends(principal)],
    svc: Annotated[Services, Depends(services)],
) -> JSONResponse:
    balance = await svc.db.run(partial(keys.balance, key_id=caller.key_id))
    return ok(round(balance, 4))
