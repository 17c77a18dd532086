"""Health and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from genjobs import metrics
from genjobs.api.auth import principal
from genjobs.api.deps import Svc
from genjobs.api.envelope import failure, ok
from genjobs.core.errors import ApiError, Code
from genjobs.core.principal import Principal
from genjobs.store import tasks

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Liveness and readiness (no auth)")
async def healthz(svc: Svc) -> JSONResponse:
    try:
        await svc.db.run(lambda conn: conn.execute(text("SELECT 1")))
    except Exception as exc:
        return failure(Code.UNAVAILABLE, f"database unavailable: {type(exc).__name__}")
    return ok(
        {
            "status": "ok",
            "database": svc.db.engine.dialect.name,
            "workers": svc.runner is not None,
            "models": svc.registry.names(),
        }
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (admin key)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def prometheus(caller: Annotated[Principal, Depends(principal)], svc: Svc) -> Response:
    if not caller.is_admin:
        raise ApiError(Code.NOT_FOUND, "not found")
    depth = await svc.db.run(tasks.queue_depth)
    lines = [
        "# HELP genjobs_tasks_active Tasks not yet finished, by state.",
        "# TYPE genjobs_tasks_active gauge",
    ]
    for state in ("waiting", "queuing", "generating"):
        lines.append(f'genjobs_tasks_active{{state="{state}"}} {depth.get(state, 0)}')
    body = generate_latest(metrics.registry) + ("\n".join(lines) + "\n").encode()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
