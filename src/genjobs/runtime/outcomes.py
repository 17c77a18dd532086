"""How a run ended, and writing it down: success, failure, cancel or retry.

Every write here is conditional on the task still being ``generating`` in the attempt
the caller holds, so a stale runner (whose lease lapsed while it ran) can never overwrite
a newer outcome: its write matches nothing and changes nothing.

Files: a successful run's files are recorded with its outcome in one transaction, so
they are kept exactly when the result that links to them is. Any other run keeps none:
a model's own failure deletes them in the worker; a canceled run's (the model finished
anyway) are deleted here.

The transaction that records an outcome also claims the model's next queued task for the
same pool slot, so a busy queue costs one write per task, not two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection

from genjobs import metrics
from genjobs.core.states import FAIL_RUN, REQUEUE, FailCode, State
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage, StoredFile
from genjobs.runtime.claim_loop import Claims
from genjobs.store import lifecycle, tasks
from genjobs.store.group_commit import GroupCommit

CANCELED_MESSAGE = "the task was canceled"


@dataclass(frozen=True)
class Outcome:
    state: State
    fail_code: str = ""
    fail_msg: str = ""
    result_json: str = ""
    outputs: Sequence[StoredFile] = ()

    @classmethod
    def succeeded(cls, result_json: str, outputs: Sequence[StoredFile]) -> Outcome:
        return cls(State.SUCCESS, result_json=result_json, outputs=outputs)

    @classmethod
    def failed(cls, code: str, message: str) -> Outcome:
        return cls(State.FAIL, code, message)

    @classmethod
    def canceled(cls, outputs: Sequence[StoredFile] = ()) -> Outcome:
        """Canceled, whatever the model did; ``outputs`` are files it saved anyway."""
        return cls(State.FAIL, FailCode.CANCELED, CANCELED_MESSAGE, outputs=outputs)


def retry(conn: Connection, row: Mapping[Any, Any]) -> bool:
    """Hand a ``generating`` task back to the queue; its next claim is a new attempt."""
    return tasks.move(
        conn,
        row["id"],
        REQUEUE,
        attempt=row["attempt"],
        lease_until=None,
        worker_id=None,
        progress=0,
    )


def fail(
    conn: Connection,
    row: Mapping[Any, Any],
    *,
    code: str,
    message: str,
    policy: lifecycle.OutboxPolicy,
    cost_ms: int | None = None,
) -> bool:
    """Fail a ``generating`` task: refund its price and queue its final callback."""
    return lifecycle.finish_failure(
        conn,
        row["id"],
        code=code,
        message=message,
        policy=policy,
        via=FAIL_RUN,
        attempt=row["attempt"],
        cost_time=cost_ms,
    )


class OutcomeRecorder:
    def __init__(
        self,
        *,
        writes: GroupCommit,
        storage: Storage,
        policy: lifecycle.OutboxPolicy,
        events: TaskEvents,
        claims: Claims,
    ) -> None:
        self._writes = writes
        self._storage = storage
        self._policy = policy
        self._events = events
        self._claims = claims

    async def record(
        self, row: Mapping[Any, Any], outcome: Outcome, cost_ms: int
    ) -> Mapping[Any, Any] | None:
        """Record the outcome of ``row``'s attempt and, while the model may have queued
        tasks, claim its next one in the same transaction; returns that task, if any.
        Neither write raises an ApiError, so a failed group commit rolls back and retries
        each call on its own."""
        record: Callable[[Connection], bool]
        if outcome.state == State.SUCCESS:
            record = partial(
                lifecycle.finish_success,
                task=row,
                result_json=outcome.result_json,
                cost_time=cost_ms,
                outputs=outcome.outputs,
                policy=self._policy,
            )
        else:
            for stored in outcome.outputs:  # a canceled run keeps no files
                self._storage.delete(stored.kind, stored.token)
            record = partial(
                fail,
                row=row,
                code=outcome.fail_code,
                message=outcome.fail_msg,
                policy=self._policy,
                cost_ms=cost_ms,
            )
        model = row["model"]
        wanted = {model: 1} if self._claims.may_have_queued(model) else {}

        def record_and_claim(conn: Connection) -> tuple[bool, list[Mapping[Any, Any]]]:
            done = record(conn)
            return done, (self._claims.claim(conn, wanted) if wanted else [])

        done, claimed = await self._writes.run(record_and_claim)
        self._claims.claimed(wanted, claimed)
        if done:
            metrics.tasks_finished.labels(model, outcome.state, outcome.fail_code).inc()
            metrics.generation_seconds.labels(model).observe(cost_ms / 1000)
            if row["callback_url"]:  # a final callback was queued: wake the deliverer
                self._events.outbox_written()
        return claimed[0] if claimed else None
