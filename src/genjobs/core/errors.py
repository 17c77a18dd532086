"""kie error codes and the exception that carries one to the HTTP layer."""

from __future__ import annotations

from enum import IntEnum


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


def invalid(field: str, rule: str) -> ApiError:
    """A 422 whose message names the field and the rule it broke."""
    return ApiError(Code.VALIDATION, f"{field}: {rule}")
