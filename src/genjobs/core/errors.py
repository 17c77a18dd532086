"""Why a request is refused: the domain's refusals (raised by the use cases and the store,
knowing nothing of HTTP), the kie error codes, and the exception that carries a code to
the HTTP layer for what only it knows (authentication, rate limits, body limits)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any


class Code(IntEnum):
    OK = 200
    UNAUTHORIZED = 401
    INSUFFICIENT_CREDITS = 402
    NOT_FOUND = 404
    PAYLOAD_TOO_LARGE = 413  # genjobs addition: a request body over its limit
    VALIDATION = 422
    RATE_LIMITED = 429
    UNAVAILABLE = 455
    SERVER_ERROR = 500
    GENERATION_FAILED = 501
    FEATURE_DISABLED = 505
    STORAGE_FULL = 507  # genjobs addition: the disk under the database or files is full


class ApiError(Exception):
    """An error answered as the kie envelope: HTTP status == ``code``."""

    def __init__(self, code: Code, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers


class Refused(Exception):
    """A use case said no, before it wrote anything. The API answers each kind with its
    kie code (api/errors.py); a group commit answers only the refused call with it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(Refused):
    """The request broke a rule; the message names the field and the rule."""


class NotFound(Refused):
    """No such thing, or it belongs to another key (which must not learn it exists)."""


class InsufficientCredits(Refused):
    """The key's balance does not cover the task's price."""


def invalid(field: str, rule: str) -> InvalidInput:
    return InvalidInput(f"{field}: {rule}")


def task_not_found(task_id: str) -> NotFound:
    return NotFound(f"task not found: {task_id}")


_LOCATION_KINDS = ("body", "query", "header", "path")


def describe_validation_errors(errors: Sequence[Any], prefix: str = "") -> str:
    """pydantic errors as ``field.path: rule`` clauses, e.g. ``input.text: Field required``."""
    parts = []
    for error in errors:
        location = [str(item) for item in error.get("loc", ())]
        if location and location[0] in _LOCATION_KINDS:
            location = location[1:]
        field = ".".join([p for p in (prefix, *location) if p]) or "body"
        message = str(error.get("msg", "invalid value"))
        message = message.removeprefix("Value error, ")
        parts.append(f"{field}: {message}")
    return "; ".join(parts)
