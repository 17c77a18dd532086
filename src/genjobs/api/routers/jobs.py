"""The Jobs API: createTask, recordInfo (kie.ai), plus list, cancel, stream and callbacks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from genjobs.api.deps import SSE_HEARTBEAT_S, Caller, Svc, TaskIdQuery, event_stream
from genjobs.api.envelope import ok
from genjobs.api.query import query_value
from genjobs.api.request_route import RequestRoute
from genjobs.api.services import Services
from genjobs.core.errors import ApiError, Code, describe_validation_errors, invalid, task_not_found
from genjobs.core.record import task_record
from genjobs.core.states import FINAL_STATES, State
from genjobs.store import deliveries, tasks
from genjobs.usecases.cancellation import cancel
from genjobs.usecases.submission import Submission, submit

log = logging.getLogger("genjobs.api")
router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


class CreateTaskBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=200, description="A model of GET /api/v1/models.")
    input: dict[str, Any] = Field(description="The model's input; see its inputSchema.")
    callBackUrl: str | None = Field(
        default=None, max_length=2000, description="Receives the final record (POST)."
    )
    progressCallBackUrl: str | None = Field(
        default=None, max_length=2000, description="Receives progress events (POST)."
    )


class TaskIdBody(BaseModel):
    taskId: str = Field(min_length=1, max_length=64)


CREATE_TASK_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": CreateTaskBody.model_json_schema()}},
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "A repeat with the same key and body returns the same taskId.",
        }
    ],
}


async def create_task(request: Request) -> JSONResponse:
    # Like recordInfo, this takes the Request and validates the body with pydantic directly:
    # FastAPI's body and dependency machinery cost as much as the insert itself.
    svc: Services = request.app.state.services
    caller = await svc.auth.authenticate(request.headers.get("authorization"))
    raw = await request.body()
    try:
        body = CreateTaskBody.model_validate_json(raw)
    except ValidationError as exc:
        raise ApiError(Code.VALIDATION, describe_validation_errors(exc.errors())) from exc
    idempotency_key = request.headers.get("idempotency-key")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 200:
        raise invalid("Idempotency-Key", "must be 1 to 200 characters")
    if not caller.is_admin or svc.settings.rate_limit_admins:
        wait_s = svc.rate_limiter.check(caller.key_id)
        if wait_s is not None:
            raise ApiError(
                Code.RATE_LIMITED,
                f"rate limit exceeded: at most {svc.rate_limiter.limit} tasks per "
                f"{svc.rate_limiter.window_s:g} s per key; retry in {wait_s:.1f} s",
                headers=svc.rate_limiter.retry_after_header(wait_s),
            )
    submission = Submission(
        model=body.model,
        input=body.input,
        param=raw.decode(),
        callback_url=body.callBackUrl,
        progress_callback_url=body.progressCallBackUrl,
        idempotency_key=idempotency_key,
    )
    submitted = await submit(svc, caller, submission)
    if not submitted.ignored_input_keys:
        return ok({"taskId": submitted.task_id})
    return ok({"taskId": submitted.task_id, "ignoredInputKeys": submitted.ignored_input_keys})


RECORD_INFO_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "taskId",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
            "description": "The task's id.",
        }
    ]
}


async def record_info(request: Request) -> JSONResponse:
    # The endpoint clients poll: it takes the Request itself and checks the key and the
    # query by hand, because FastAPI's dependency and parameter machinery cost more here
    # (about 80 us) than the database read (20 us). Same rules, same messages.
    svc: Services = request.app.state.services
    caller = await svc.auth.authenticate(request.headers.get("authorization"))
    task_id = query_value(request.scope["query_string"], "taskId")
    if not task_id:
        raise invalid("taskId", "Field required")
    if len(task_id) > 64:
        raise invalid("taskId", "String should have at most 64 characters")
    record = await svc.backend.read_record(task_id, caller.owner_filter)
    if record is None:
        raise task_not_found(task_id)
    return ok(record)


# The two routes clients call most take the Request directly (see request_route.py).
router.add_api_route(
    "/createTask",
    create_task,
    methods=["POST"],
    summary="Create a task",
    openapi_extra=CREATE_TASK_OPENAPI,
    route_class_override=RequestRoute,
)
router.add_api_route(
    "/recordInfo",
    record_info,
    methods=["GET"],
    summary="Query a task",
    openapi_extra=RECORD_INFO_OPENAPI,
    route_class_override=RequestRoute,
)


@router.get("/list", summary="List tasks, newest first (genjobs addition)")
async def list_tasks(
    caller: Caller,
    svc: Svc,
    state: Annotated[State | None, Query(description="Only tasks in this state.")] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(pattern=tasks.CURSOR_PATTERN, description="nextCursor of the previous page."),
    ] = None,
) -> JSONResponse:
    try:
        position = tasks.decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        raise invalid("cursor", str(exc)) from exc
    rows, next_cursor = await svc.backend.list_page(
        owner_id=caller.owner_filter, state=state, model=model, limit=limit, cursor=position
    )
    return ok({"items": [task_record(row) for row in rows], "nextCursor": next_cursor})


@router.post("/cancel", summary="Cancel a task (genjobs addition)")
async def cancel_task(body: TaskIdBody, caller: Caller, svc: Svc) -> JSONResponse:
    record = await cancel(svc, caller, body.taskId)
    return ok(record, "cancel requested" if record["state"] != State.FAIL else "canceled")


@router.get(
    "/stream",
    summary="Server-Sent Events of a task's state and progress (genjobs addition)",
    response_class=StreamingResponse,
)
async def stream_task(taskId: TaskIdQuery, caller: Caller, svc: Svc) -> StreamingResponse:
    row = await svc.backend.get(taskId, caller.owner_filter)
    if row is None:
        raise task_not_found(taskId)

    async def events() -> AsyncIterator[str]:
        watcher = svc.events.watch(taskId)
        last: tuple[Any, ...] | None = None
        idle_s = 0.0
        try:
            while True:
                current = await svc.backend.get(taskId)
                if current is None:
                    return
                key = (current["state"], current["progress"], current["update_time"])
                if key != last:
                    last, idle_s = key, 0.0
                    yield f"event: task\ndata: {json.dumps(task_record(current))}\n\n"
                    if current["state"] in FINAL_STATES:
                        return
                elif idle_s >= SSE_HEARTBEAT_S:
                    idle_s = 0.0
                    yield ": keep-alive\n\n"
                # Woken by this process's changes; the 1 s re-read covers other processes.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await watcher.wait()
                    idle_s -= 1.0
                watcher.clear()
                idle_s += 1.0
        finally:
            svc.events.unwatch(taskId, watcher)

    return event_stream(events())


@router.get("/callbacks", summary="Callback deliveries of a task and every attempt")
async def task_callbacks(taskId: TaskIdQuery, caller: Caller, svc: Svc) -> JSONResponse:
    def read(conn: Connection) -> list[dict[str, Any]]:
        if tasks.get(conn, taskId, caller.owner_filter) is None:
            raise task_not_found(taskId)
        return deliveries.for_task(conn, taskId)

    return ok(await svc.db.run(read))
