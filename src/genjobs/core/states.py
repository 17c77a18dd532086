"""Task states and the transitions allowed between them (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Transition:
    """A named move of a task from any of ``sources`` to ``target``. The store moves
    tasks only by these, and each is checked against ALLOWED when it is defined, so a
    move the state machine forbids cannot be written."""

    name: str
    sources: frozenset[State]
    target: State


def transition(name: str, sources: set[State], target: State) -> Transition:
    forbidden = sorted(source for source in sources if not can_move(source, target))
    if forbidden:
        raise ValueError(f"{name}: {', '.join(forbidden)} -> {target} is not allowed")
    return Transition(name, frozenset(sources), target)


ENQUEUE = transition("enqueue", {State.WAITING}, State.QUEUING)
CLAIM = transition("claim", {State.QUEUING}, State.GENERATING)
SUCCEED = transition("succeed", {State.GENERATING}, State.SUCCESS)
FAIL_RUN = transition("fail_run", {State.GENERATING}, State.FAIL)
CANCEL_UNSTARTED = transition("cancel_unstarted", {State.WAITING, State.QUEUING}, State.FAIL)
# Its worker was lost (or the server stopped): back to the queue for another run.
REQUEUE = transition("requeue", {State.GENERATING}, State.QUEUING)
TRANSITIONS = (ENQUEUE, CLAIM, SUCCEED, FAIL_RUN, CANCEL_UNSTARTED, REQUEUE)


class FailCode(StrEnum):
    """failCodes genjobs itself sets; models add their own (e.g. ``invalid_audio``)."""

    CANCELED = "canceled"
    TIMEOUT = "timeout"
    WORKER_CRASHED = "worker_crashed"
    WORKER_LOST = "worker_lost"
    MODEL_ERROR = "model_error"
    MODEL_UNAVAILABLE = "model_unavailable"
