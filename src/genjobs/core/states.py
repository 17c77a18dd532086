"""Task states and the transitions allowed between them (DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    WAITING = "waiting"  # accepted and stored
    QUEUING = "queuing"  # handed to a worker queue
    GENERATING = "generating"  # a worker is running it
    SUCCESS = "success"
    FAIL = "fail"


FINAL_STATES = frozenset({State.SUCCESS, State.FAIL})
ACTIVE_STATES = frozenset({State.WAITING, State.QUEUING, State.GENERATING})

# A generating task goes back to queuing when its worker was lost and it is retried.
ALLOWED = {
    State.WAITING: {State.QUEUING, State.FAIL},
    State.QUEUING: {State.GENERATING, State.FAIL},
    State.GENERATING: {State.SUCCESS, State.FAIL, State.QUEUING},
    State.SUCCESS: set(),
    State.FAIL: set(),
}


def can_move(from_state: State, to_state: State) -> bool:
    return to_state in ALLOWED[from_state]


class FailCode(StrEnum):
    """failCodes genjobs itself sets; models add their own (e.g. ``invalid_audio``)."""

    CANCELED = "canceled"
    TIMEOUT = "timeout"
    WORKER_CRASHED = "worker_crashed"
    WORKER_LOST = "worker_lost"
    MODEL_ERROR = "model_error"
    MODEL_UNAVAILABLE = "model_unavailable"
