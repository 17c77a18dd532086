"""The Jobs API: createTask, recordInfo (kie.ai), plus list, cancel, stream and callbacks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from genjobs import metrics
from genjobs.api.deps import Caller, Svc, TaskIdQuery, event_stream, task_not_found
from genjobs.api.envelope import ok
from genjobs.api.errors import describe_validation_errors
from genjobs.api.input_files import check_input_files
from genjobs.api.query import query_value
from genjobs.api.request_route import RequestRoute
from genjobs.api.services import Services
from genjobs.core.errors import ApiError, Code, invalid
from genjobs.core.record import task_record
from genjobs.core.states import FINAL_STATES, State
from genjobs.files.fetch import FetchError, check_public_url
from genjobs.runtime.inputs import validate_input
from genjobs.store import deliveries, lifecycle, tasks

log = logging.getLogger("genjobs.api")
router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
SSE_HEARTBEAT_S = 15.0


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


async def _check_callback_url(field: str, url: str, allow_private: bool) -> None:
    try:
        await anyio.to_thread.run_sync(check_public_url, url, allow_private)
    except FetchError as exc:
        raise invalid(field, str(exc)) from exc


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
    model = svc.registry.get(body.model)
    if model is None:
        raise invalid("model", f"unknown model {body.model!r}; see GET /api/v1/models")
    try:
        model_input, ignored = validate_input(
            model.input_schema, body.input, strict=svc.settings.strict_input
        )
    except ValidationError as exc:
        raise ApiError(
            Code.VALIDATION, describe_validation_errors(exc.errors(), prefix="input")
        ) from exc
    await check_input_files(svc.db, svc.storage, caller, body.input)
    for field, url in (
        ("callBackUrl", body.callBackUrl),
        ("progressCallBackUrl", body.progressCallBackUrl),
    ):
        if url:  # most creates have none: no thread hop for them
            await _check_callback_url(field, url, svc.settings.allow_private_urls)
    param = raw.decode()  # kie's `param`: the createTask body as the client sent it
    new = lifecycle.NewTask(
        owner_id=caller.key_id,
        model=model.name,
        param=param,
        price=float(model.price_for(model_input)),
        callback_url=body.callBackUrl,
        progress_callback_url=body.progressCallBackUrl,
        idempotency_key=idempotency_key,
        request_hash=hashlib.sha256(param.encode()).hexdigest() if idempotency_key else None,
    )
    try:
        task_id, created = await svc.writes.run(partial(_create_once, new=new))
    except IntegrityError:  # a concurrent request with the same Idempotency-Key won
        task_id, created = await svc.db.run(partial(_create_once, new=new))
    if created:
        metrics.tasks_created.labels(model.name).inc()
        await svc.dispatcher.submit(task_id, model.name)
    if not ignored:
        return ok({"taskId": task_id})
    log.info("task %s: ignored unknown input keys %s", task_id, ", ".join(ignored))
    return ok({"taskId": task_id, "ignoredInputKeys": [f"input.{key}" for key in ignored]})


def _create_once(conn: Connection, new: lifecycle.NewTask) -> tuple[str, bool]:
    """Create the task, or return the earlier one made with the same Idempotency-Key.
    Group-committed: every refusal (ApiError) comes before anything is written."""
    if new.idempotency_key:
        earlier = tasks.find_by_idempotency_key(conn, new.owner_id, new.idempotency_key)
        if earlier is not None:
            if earlier["request_hash"] != new.request_hash:
                raise invalid(
                    "Idempotency-Key",
                    "this key was already used with a different request body",
                )
            return str(earlier["id"]), False
    return lifecycle.create(conn, new), True


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
    record = await tasks.read_record(svc.db, task_id, caller.owner_filter)
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
    rows, next_cursor = await svc.db.run(
        partial(
            tasks.list_page,
            owner_id=caller.owner_filter,
            state=state,
            model=model,
            limit=limit,
            cursor=position,
        )
    )
    return ok({"items": [task_record(row) for row in rows], "nextCursor": next_cursor})


@router.post("/cancel", summary="Cancel a task (genjobs addition)")
async def cancel_task(body: TaskIdBody, caller: Caller, svc: Svc) -> JSONResponse:
    def cancel(conn: Connection) -> dict[str, Any]:
        row = tasks.get(conn, body.taskId, caller.owner_filter)
        if row is None:
            raise task_not_found(body.taskId)
        if row["state"] in FINAL_STATES:
            raise invalid("taskId", f"the task already finished (state {row['state']})")
        lifecycle.request_cancel(conn, row, svc.policy)
        updated = tasks.get(conn, body.taskId)
        assert updated is not None
        return task_record(updated)

    record = await svc.db.run(cancel)
    svc.events.changed(body.taskId)
    if record["state"] == State.GENERATING:
        svc.events.cancel_requested.put_nowait(body.taskId)
    else:
        svc.events.outbox_written()
    return ok(record, "cancel requested" if record["state"] != State.FAIL else "canceled")


@router.get(
    "/stream",
    summary="Server-Sent Events of a task's state and progress (genjobs addition)",
    response_class=StreamingResponse,
)
async def stream_task(taskId: TaskIdQuery, caller: Caller, svc: Svc) -> StreamingResponse:
    row = await svc.db.run(partial(tasks.get, task_id=taskId, owner_id=caller.owner_filter))
    if row is None:
        raise task_not_found(taskId)

    async def events() -> AsyncIterator[str]:
        watcher = svc.events.watch(taskId)
        last: tuple[Any, ...] | None = None
        idle_s = 0.0
        try:
            while True:
                current = await svc.db.run(partial(tasks.get, task_id=taskId))
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
