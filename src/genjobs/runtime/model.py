"""The model plugin interface.

A model is a class with a name, a pydantic input schema, a price, limits, ``setup()``
(load weights; called once per worker process) and ``run(input, ctx)``. Model modules
are imported by the API server to read schemas and prices, so they must import heavy
libraries (torch, faster_whisper, av, ...) inside ``setup``/``run``, never at module
top level.

``run`` returns the task's result as a dict that becomes ``resultJson``:
``{"resultUrls": [...]}`` for media (URLs from ``ctx.save_output``), or
``{"resultObject": {...}}`` for structured text. It fails the task by raising
``TaskFailed(code, message)``; any other exception fails it with ``model_error``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from genjobs.runtime.context import RunContext

InputT = TypeVar("InputT", bound=BaseModel)


class TaskFailed(Exception):
    """A clean, expected failure: ``code`` becomes the task's failCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TaskCancelled(TaskFailed):
    """Raised by ``RunContext.check_cancelled`` once the task was cancelled."""

    def __init__(self) -> None:
        super().__init__("canceled", "the task was canceled")


class Model(Generic[InputT]):
    """Base class of every model; subclass it and set the class attributes."""

    name: ClassVar[str]
    input_schema: ClassVar[type[BaseModel]]
    description: ClassVar[str] = ""
    price: ClassVar[float] = 1.0  # credits per task unless ``price_for`` says otherwise
    concurrency: ClassVar[int] = 1  # tasks of this model run at once on one machine
    timeout_s: ClassVar[float] = 600.0  # a run that takes longer fails with `timeout`

    def price_for(self, input: InputT) -> float:
        """Credits charged for one task with this input (debited at createTask)."""
        return self.price

    def setup(self) -> None:
        """Load weights; called once in each worker process before the first run."""

    def run(self, input: InputT, ctx: RunContext) -> dict[str, Any]:
        raise NotImplementedError
