"""The model catalogue with each model's input JSON Schema (genjobs addition)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from genjobs.api.deps import Caller, Svc
from genjobs.api.envelope import ok
from genjobs.api.services import Services
from genjobs.core.errors import ApiError, Code
from genjobs.runtime.registry import AnyModel

router = APIRouter(prefix="/api/v1/models", tags=["models"])


def describe(model: AnyModel, svc: Services) -> dict[str, Any]:
    return {
        "name": model.name,
        "description": model.description,
        "price": model.price,
        "concurrency": svc.registry.concurrency(model, svc.settings),
        "timeoutSeconds": svc.settings.model_timeout_s or model.timeout_s,
        "inputSchema": model.input_schema.model_json_schema(),
    }


@router.get("", summary="All models")
async def list_models(_caller: Caller, svc: Svc) -> JSONResponse:
    return ok([describe(model, svc) for model in svc.registry])


@router.get("/{name:path}", summary="One model")
async def get_model(name: str, _caller: Caller, svc: Svc) -> JSONResponse:
    model = svc.registry.get(name)
    if model is None:
        raise ApiError(Code.NOT_FOUND, f"model not found: {name}")
    return ok(describe(model, svc))
