"""The Python SDK: ``Client`` and ``AsyncClient`` for genjobs (and kie.ai)."""

from genjobs.client.async_client import AsyncClient
from genjobs.client.errors import (
    AuthenticationError,
    GenjobsConnectionError,
    GenjobsError,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    TaskFailedError,
    TaskTimeoutError,
    ValidationError,
)
from genjobs.client.sync_client import Client
from genjobs.client.types import Task, TaskPage, UploadedFile

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "GenjobsConnectionError",
    "GenjobsError",
    "InsufficientCreditsError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "ServiceUnavailableError",
    "Task",
    "TaskFailedError",
    "TaskPage",
    "TaskTimeoutError",
    "UploadedFile",
    "ValidationError",
]
