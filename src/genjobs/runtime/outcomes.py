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

from collections.abc import Sequence
from dataclasses import dataclass

from genjobs import metrics
from genjobs.backends.base import TaskBackend
from genjobs.core.states import FailCode, State
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage, StoredFile
from genjobs.runtime.claim_loop import Claims
from genjobs.store.rows import TaskRow

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


class OutcomeRecorder:
    def __init__(
        self,
        *,
        backend: TaskBackend,
        storage: Storage,
        events: TaskEvents,
        claims: Claims,
    ) -> None:
        self._backend = backend
        self._storage = storage
        self._events = events
        self._claims = claims

    async def record(self, row: TaskRow, outcome: Outcome, cost_ms: int) -> TaskRow | None:
        """Record the outcome of ``row``'s attempt and, while the model may have queued
        tasks, claim its next one in the same transaction; returns that task, if any.
        Neither write raises an ApiError, so a failed group commit rolls back and retries
        each call on its own."""
        model = row["model"]
        wanted = {model: 1} if self._claims.may_have_queued(model) else {}
        then_claim = self._claims.request(wanted) if wanted else None
        if outcome.state == State.SUCCESS:
            done, claimed = await self._backend.succeed(
                row,
                result_json=outcome.result_json,
                cost_ms=cost_ms,
                outputs=outcome.outputs,
                then_claim=then_claim,
            )
        else:
            for stored in outcome.outputs:  # a canceled run keeps no files
                self._storage.delete(stored.kind, stored.token)
            done, claimed = await self._backend.fail(
                row,
                code=outcome.fail_code,
                message=outcome.fail_msg,
                cost_ms=cost_ms,
                then_claim=then_claim,
            )
        self._claims.claimed(wanted, claimed)
        if done:
            metrics.tasks_finished.labels(model, outcome.state, outcome.fail_code).inc()
            metrics.generation_seconds.labels(model).observe(cost_ms / 1000)
            if row["callback_url"]:  # a final callback was queued: wake the deliverer
                self._events.outbox_written()
        return claimed[0] if claimed else None
