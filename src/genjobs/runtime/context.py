"""What a running model sees: progress, cancellation, inputs and outputs.

The worker process builds one ``RunContext`` per task. The same class serves a model
run directly (tests, notebooks): pass ``on_progress`` and ``cancel_event`` of your own.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from genjobs.config import Settings
from genjobs.files.fetch import FetchError, FetchTooLarge, fetch_to_file
from genjobs.files.storage import Storage, StorageError, StoredFile, safe_file_name
from genjobs.runtime.model import TaskCancelled, TaskFailed

log = logging.getLogger("genjobs.model")


class CancelSignal(Protocol):
    """Whether the task was asked to stop; a ``threading.Event`` is one."""

    def is_set(self) -> bool: ...


class RunContext:
    def __init__(
        self,
        task_id: str,
        settings: Settings,
        storage: Storage,
        work_dir: Path,
        on_progress: Callable[[int], None] | None = None,
        cancel_event: CancelSignal | None = None,
    ) -> None:
        self.task_id = task_id
        self.settings = settings
        self.storage = storage
        self._work_dir = work_dir
        self._work_dir_made = False
        self.outputs: list[StoredFile] = []
        self.log = log
        self._on_progress = on_progress
        self._cancel: CancelSignal = cancel_event or threading.Event()
        self._last_progress = -1

    @property
    def work_dir(self) -> Path:
        """The task's scratch directory, removed when the run ends. Made on first use:
        most runs never need one, and making and removing it costs more than a short
        model's whole run."""
        if not self._work_dir_made:
            self._work_dir.mkdir(parents=True, exist_ok=True)
            self._work_dir_made = True
        return self._work_dir

    # --- progress and cancellation ----------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Raise ``TaskCancelled`` if the task was cancelled; call it between chunks."""
        if self._cancel.is_set():
            raise TaskCancelled()

    def progress(self, percent: float) -> None:
        """Report progress 0-100 (monotonic; repeats are dropped) and check for cancel."""
        value = max(0, min(100, int(percent)))
        if value > self._last_progress:
            self._last_progress = value
            if self._on_progress is not None:
                self._on_progress(value)
        self.check_cancelled()

    # --- inputs ---------------------------------------------------------------------
    def fetch_input(self, url: str, max_bytes: int | None = None) -> Path:
        """A local copy of an input URL (our own links are read from storage directly).

        Raises ``TaskFailed("input_fetch_failed" | "input_too_large", ...)``.
        """
        limit = max_bytes or self.settings.fetch_max_bytes
        own = self.storage.parse_link(url)
        if own is not None:
            return self._own_file(url, *own, limit=limit)
        try:
            return fetch_to_file(
                url,
                self._input_path(url),
                allow_private=self.settings.allow_private_urls,
                timeout_s=self.settings.fetch_timeout_s,
                max_bytes=limit,
            )
        except FetchTooLarge as exc:
            raise TaskFailed("input_too_large", f"{url} {exc}") from exc
        except FetchError as exc:
            raise TaskFailed("input_fetch_failed", f"{url} {exc}") from exc

    def _input_path(self, url: str) -> Path:
        name = safe_file_name(unquote(urlsplit(url).path), fallback="input")
        return self.work_dir / f"{len(list(self.work_dir.iterdir()))}-{name}"

    def _own_file(self, url: str, kind: str, token: str, name: str, limit: int) -> Path:
        """A file of this service, read without a network hop but only as an HTTP download
        of it could be: reading from storage must not bypass the link's signature."""
        if not self.storage.verify_link(url):
            raise TaskFailed(
                "input_fetch_failed", f"{url} is an expired or unsigned link to a genjobs file"
            )
        try:
            stored = self.storage.find(kind, token, name)
            if stored is None:
                raise TaskFailed("input_fetch_failed", f"{url} file not found")
            if stored.size > limit:
                raise TaskFailed("input_too_large", f"{url} is larger than {limit} bytes")
            return stored.materialize(self._input_path(url))
        except StorageError as exc:
            raise TaskFailed("input_fetch_failed", f"{url} {exc.message}") from exc

    # --- outputs ------------------------------------------------------------------
    def save_output(self, source: Path | bytes, file_name: str) -> str:
        """Store a result file and return its link (valid for the retention period)."""
        try:
            if isinstance(source, bytes):
                stored = self.storage.save_bytes("results", file_name, source)
            else:
                stored = self.storage.save_path("results", file_name, source)
        except StorageError as exc:
            raise TaskFailed(
                exc.fail_code, f"{file_name} could not be stored: {exc.message}"
            ) from exc
        self.outputs.append(stored)
        ttl = self.settings.retention_days * 86400
        return self.storage.link(stored.kind, stored.token, stored.name, ttl)

    def close(self) -> None:
        if self._work_dir_made:
            shutil.rmtree(self._work_dir, ignore_errors=True)
