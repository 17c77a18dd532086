"""The interface every file store implements: where uploads and results live.

Callers never see a backend's paths or keys: they save bytes, find a stored file by its
(kind, token, name) address, read it (whole or a byte range, for serving) or materialize
it as a local file (for a model's input), and delete it. Signed links come with every
store (``SignedLinks``), as they do not depend on where the bytes are.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from genjobs.files.storage.links import KINDS, SignedLinks

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class StoredFile:
    """A file just saved. Plain data: worker processes send it to the server."""

    kind: str
    token: str
    name: str
    size: int
    mime_type: str


def safe_file_name(name: str, fallback: str = "file") -> str:
    """A plain base name: no directories, no control or shell-special characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = _UNSAFE_NAME_CHARS.sub("_", base).strip(". ")
    return base[:200] or fallback


def guess_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def new_address(kind: str, name: str) -> tuple[str, str]:
    """A fresh (token, safe name) for a file of ``kind``: files never share a token, so a
    stored file is never overwritten and its bytes never change."""
    if kind not in KINDS:
        raise ValueError(f"unknown file kind {kind!r}")
    return secrets.token_urlsafe(18), safe_file_name(name)


class StoredObject(ABC):
    """A stored file found by ``Storage.find``."""

    size: int

    @abstractmethod
    def read(self, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` in chunks. The store is asked before this returns, so
        an error surfaces here, before an HTTP answer has begun."""

    @abstractmethod
    def materialize(self, dest: Path) -> Path:
        """A local file with these bytes: the stored file itself when it is on this
        machine's disk, else a copy written to ``dest``."""


class Storage(SignedLinks, ABC):
    """A file store: ``LocalStorage`` or ``S3Storage``, made by ``open_storage``."""

    # --- writing ---------------------------------------------------------------------
    @abstractmethod
    def save_stream(
        self, kind: str, name: str, chunks: Iterable[bytes], max_bytes: int
    ) -> StoredFile:
        """Store chunks as a new file; raises FileTooLarge past ``max_bytes``, leaving
        nothing behind."""

    def save_bytes(self, kind: str, name: str, data: bytes) -> StoredFile:
        return self.save_stream(kind, name, [data], max_bytes=len(data))

    @abstractmethod
    def save_path(self, kind: str, name: str, source: Path) -> StoredFile:
        """Move a finished local file (e.g. a rendered video) into storage."""

    @abstractmethod
    def delete(self, kind: str, token: str) -> None:
        """Remove a file. Never raises: a file that cannot be removed now is logged (the
        callers, retention and failed runs, have nothing better to do with the error)."""

    # --- reading ---------------------------------------------------------------------
    @abstractmethod
    def find(self, kind: str, token: str, name: str) -> StoredObject | None:
        """The stored file at this address, or None when there is none."""
