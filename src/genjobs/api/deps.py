"""What the routers share: the caller and the services as FastAPI dependencies, the
taskId query parameter, the task-not-found answer and the event-stream response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse

from genjobs.api.auth import principal
from genjobs.api.services import Services, services
from genjobs.core.principal import Principal

Caller = Annotated[Principal, Depends(principal)]
Svc = Annotated[Services, Depends(services)]
SSE_HEARTBEAT_S = 15.0  # a comment line on a quiet stream, so proxies keep it open
TaskIdQuery = Annotated[str, Query(min_length=1, max_length=64, description="The task's id.")]


def event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    """Server-Sent Events, unbuffered by proxies (nginx honours X-Accel-Buffering)."""
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
