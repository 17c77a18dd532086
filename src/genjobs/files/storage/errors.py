"""What storage raises besides a local disk's own OSError (a full disk stays an OSError:
store/outage.py already answers it with 507).

An object store that fails is answered in the kie envelope wherever the API meets it (the
errors are ApiErrors, with Retry-After like the database's outages), and fails a running
task with a failCode of its own: never a 500 or a traceback.
"""

from __future__ import annotations

from typing import ClassVar

from genjobs.core.errors import ApiError, Code

RETRY_AFTER_S = "5"


class FileTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"file exceeds the limit of {limit} bytes")
        self.limit = limit


class StorageError(ApiError):
    """The file store failed; ``api_code`` answers a request, ``fail_code`` fails a task."""

    api_code: ClassVar[Code]
    fail_code: ClassVar[str]

    def __init__(self, message: str) -> None:
        super().__init__(self.api_code, message, {"Retry-After": RETRY_AFTER_S})


class StorageUnavailable(StorageError):
    api_code = Code.UNAVAILABLE
    fail_code = "storage_unavailable"


class StorageFull(StorageError):
    api_code = Code.STORAGE_FULL
    fail_code = "storage_full"


class StorageConfigError(ValueError):
    """GENJOBS_STORAGE_URL names a store that cannot be used; raised at start-up."""
