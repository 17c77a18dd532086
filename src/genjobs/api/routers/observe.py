"""Watching tasks (genjobs additions, used by the dashboard): a live feed of every change
to the caller's tasks, a task's timeline, and a transcript as subtitles."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response, StreamingResponse

from genjobs.api.deps import SSE_HEARTBEAT_S, Caller, Svc, TaskIdQuery, event_stream
from genjobs.api.envelope import ok
from genjobs.client.formats import FORMATS
from genjobs.core.clock import now_ms
from genjobs.core.errors import NotFound, task_not_found
from genjobs.core.record import task_record
from genjobs.core.states import State
from genjobs.store import changes

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
REREAD_S = 1.0  # changes made by other processes (remote workers) are seen this late
MEDIA_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain"}


@router.get(
    "/changes",
    summary="Server-Sent Events of every change to the caller's tasks (genjobs addition)",
    response_class=StreamingResponse,
)
async def task_changes(caller: Caller, svc: Svc) -> StreamingResponse:
    """One `task` event (the recordInfo record) per task created or changed after the
    stream opened; an admin key sees every task."""
    owner = caller.owner_filter
    position = await svc.db.run(partial(changes.start, owner_id=owner, now=now_ms()))

    async def events() -> AsyncIterator[str]:
        watcher = svc.events.watch_all()
        quiet_s = 0.0
        try:
            while True:
                rows = await svc.db.run(partial(changes.read, owner_id=owner, position=position))
                for row in rows:
                    yield f"event: task\ndata: {json.dumps(task_record(row))}\n\n"
                quiet_s = 0.0 if rows else quiet_s + REREAD_S
                if quiet_s >= SSE_HEARTBEAT_S:
                    quiet_s = 0.0
                    yield ": keep-alive\n\n"
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(REREAD_S):
                        await watcher.wait()
                watcher.clear()
        finally:
            svc.events.unwatch_all(watcher)

    return event_stream(events())


@router.get("/timeline", summary="When a task was created, queued, started and finished")
async def task_timeline(taskId: TaskIdQuery, caller: Caller, svc: Svc) -> JSONResponse:
    row = await svc.backend.get(taskId, caller.owner_filter)
    if row is None:
        raise task_not_found(taskId)
    return ok(
        {
            "taskId": row["id"],
            "createTime": row["create_time"],
            "queueTime": row["queue_time"],  # null: not queued yet (or made before it was kept)
            "startTime": row["start_time"],  # the latest run's start
            "completeTime": row["complete_time"],
            "attempt": row["attempt"],
        }
    )


@router.get(
    "/transcript",
    summary="A speech-to-text task's transcript as SRT, WebVTT, plain text or JSON",
    response_class=Response,
)
async def transcript(
    taskId: TaskIdQuery,
    caller: Caller,
    svc: Svc,
    format: Annotated[
        Literal["srt", "vtt", "txt", "json"], Query(description="The file's format.")
    ] = "srt",
) -> Response:
    row = await svc.backend.get(taskId, caller.owner_filter)
    if row is None:
        raise task_not_found(taskId)
    words = _transcript_of(row["result_json"]) if row["state"] == State.SUCCESS else None
    if words is None:
        raise NotFound(f"task {taskId} has no transcript (yet)")
    if format == "json":
        body, media_type = json.dumps(words, ensure_ascii=False, indent=2), "application/json"
    else:
        body, media_type = FORMATS[format](words), MEDIA_TYPES[format]
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{taskId}.{format}"'},
    )


def _transcript_of(result_json: str) -> dict[str, Any] | None:
    """The ElevenLabs transcript in a result (``resultObject`` with ``words``), if any."""
    try:
        result = json.loads(result_json)
    except ValueError:
        return None
    transcript = result.get("resultObject") if isinstance(result, dict) else None
    if isinstance(transcript, dict) and isinstance(transcript.get("words"), list):
        return transcript
    return None
