"""Exceptions of the SDK: every server error carries kie's ``code`` and message."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genjobs.client.types import Task


class GenjobsError(Exception):
    """An error answered by the service (or kie.ai): ``code`` is the envelope's code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AuthenticationError(GenjobsError):
    """401: missing or invalid API key."""


class InsufficientCreditsError(GenjobsError):
    """402: the key's balance does not cover the task."""


class NotFoundError(GenjobsError):
    """404: unknown task or file (or one of another key)."""


class ValidationError(GenjobsError):
    """422: the message names the field and the rule."""


class RateLimitError(GenjobsError):
    """429: too many tasks; retry later."""


class ServiceUnavailableError(GenjobsError):
    """455: maintenance or draining."""


class ServerError(GenjobsError):
    """500 and other server-side failures."""


class GenjobsConnectionError(GenjobsError):
    """The service could not be reached (code 0)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, message)


class TaskTimeoutError(GenjobsError):
    """``wait`` gave up before the task finished; the task keeps running."""

    def __init__(self, task_id: str, timeout: float) -> None:
        super().__init__(0, f"task {task_id} did not finish within {timeout:g} s")
        self.task_id = task_id


class TaskFailedError(GenjobsError):
    """Raised by ``Task.result_or_raise()`` for a task that ended in ``fail``."""

    def __init__(self, task: Task) -> None:
        super().__init__(501, f"task {task.task_id} failed: {task.fail_code}: {task.fail_msg}")
        self.task = task
        self.fail_code = task.fail_code


BY_CODE: dict[int, type[GenjobsError]] = {
    401: AuthenticationError,
    402: InsufficientCreditsError,
    404: NotFoundError,
    422: ValidationError,
    429: RateLimitError,
    455: ServiceUnavailableError,
}


def error_for(code: int, message: str) -> GenjobsError:
    return BY_CODE.get(code, ServerError if code >= 500 else GenjobsError)(code, message)
