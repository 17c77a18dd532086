"""Submitting a task (createTask): the model and its input, the files the input links
to, the callback URLs, then one transaction that debits the price and stores the task
(or finds the earlier one with the same Idempotency-Key), and the hand-off to the queue.
Every refusal comes before anything is written."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from pydantic import ValidationError

from genjobs import metrics
from genjobs.core.errors import InvalidInput, describe_validation_errors, invalid
from genjobs.core.principal import Principal
from genjobs.files.fetch import FetchError, check_public_url
from genjobs.runtime.inputs import validate_input
from genjobs.store import lifecycle
from genjobs.usecases.input_files import check_input_files
from genjobs.usecases.ports import Ports

log = logging.getLogger("genjobs.submission")


@dataclass(frozen=True)
class Submission:
    model: str
    input: dict[str, Any]
    param: str  # the createTask body as the client sent it (kie's `param`)
    callback_url: str | None = None
    progress_callback_url: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Submitted:
    task_id: str
    created: bool  # False: the task made earlier with the same Idempotency-Key
    ignored_input_keys: list[str]  # unknown keys of the input, e.g. "input.resolution"


async def submit(ports: Ports, caller: Principal, submission: Submission) -> Submitted:
    model = ports.registry.get(submission.model)
    if model is None:
        raise invalid("model", f"unknown model {submission.model!r}; see GET /api/v1/models")
    try:
        model_input, ignored = validate_input(
            model.input_schema, submission.input, strict=ports.settings.strict_input
        )
    except ValidationError as exc:
        raise InvalidInput(describe_validation_errors(exc.errors(), prefix="input")) from exc
    await check_input_files(ports.db, ports.storage, caller, submission.input)
    for field, url in (
        ("callBackUrl", submission.callback_url),
        ("progressCallBackUrl", submission.progress_callback_url),
    ):
        if url:  # most creates have none: no thread hop for them
            await _check_callback_url(field, url, ports.settings.allow_private_urls)
    key = submission.idempotency_key
    new = lifecycle.NewTask(
        owner_id=caller.key_id,
        model=model.name,
        param=submission.param,
        price=float(model.price_for(model_input)),
        callback_url=submission.callback_url,
        progress_callback_url=submission.progress_callback_url,
        idempotency_key=key,
        request_hash=hashlib.sha256(submission.param.encode()).hexdigest() if key else None,
    )
    task_id, created = await ports.backend.create(new)
    if created:
        metrics.tasks_created.labels(model.name).inc()
        await ports.backend.enqueue(task_id, model.name)
    ignored_keys = [f"input.{name}" for name in ignored]
    if ignored_keys:
        log.info("task %s: ignored unknown input keys %s", task_id, ", ".join(ignored_keys))
    return Submitted(task_id, created, ignored_keys)


async def _check_callback_url(field: str, url: str, allow_private: bool) -> None:
    try:
        await anyio.to_thread.run_sync(check_public_url, url, allow_private)
    except FetchError as exc:
        raise invalid(field, str(exc)) from exc
