"""The kie envelope ``{"code", "msg", "message", "data"}``; the HTTP status equals ``code``.

Clients in the wild read either ``msg`` or ``message``, so both carry the same text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse


def envelope(code: int, message: str, data: Any = None) -> dict[str, Any]:
    return {"code": code, "msg": message, "message": message, "data": data}


def ok(data: Any = None, message: str = "success") -> JSONResponse:
    return JSONResponse(envelope(200, message, data))


def failure(code: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(envelope(code, message), status_code=code, headers=headers)
