"""Files on this machine's disk, under ``<root>/<kind>/<token>/<name>``."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from genjobs.files.storage.base import Storage, StoredFile, StoredObject, guess_mime, new_address
from genjobs.files.storage.errors import FileTooLarge
from genjobs.files.storage.links import is_address

CHUNK_BYTES = 256 * 1024


class LocalObject(StoredObject):
    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size

    def read(self, start: int, stop: int) -> Iterator[bytes]:
        file = self.path.open("rb")
        file.seek(start)
        return _chunks(file, stop - start)

    def materialize(self, dest: Path) -> Path:
        return self.path  # already a local file: a copy would only cost time and space


def _chunks(file: BinaryIO, remaining: int) -> Iterator[bytes]:
    with file:
        while remaining > 0 and (chunk := file.read(min(CHUNK_BYTES, remaining))):
            remaining -= len(chunk)
            yield chunk


class LocalStorage(Storage):
    def __init__(self, root: Path, base_url: str, signing_key: bytes) -> None:
        super().__init__(base_url, signing_key)
        self.root = root

    def _new_file(self, kind: str, name: str) -> tuple[str, str, Path]:
        token, clean = new_address(kind, name)
        folder = self.root / kind / token
        folder.mkdir(parents=True)
        return token, clean, folder / clean

    def save_stream(
        self, kind: str, name: str, chunks: Iterable[bytes], max_bytes: int
    ) -> StoredFile:
        token, clean, path = self._new_file(kind, name)
        size = 0
        try:
            with path.open("wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileTooLarge(max_bytes)
                    out.write(chunk)
        except BaseException:
            shutil.rmtree(path.parent, ignore_errors=True)
            raise
        return StoredFile(kind, token, clean, size, guess_mime(clean))

    def save_path(self, kind: str, name: str, source: Path) -> StoredFile:
        token, clean, path = self._new_file(kind, name)
        shutil.move(str(source), path)
        return StoredFile(kind, token, clean, path.stat().st_size, guess_mime(clean))

    def delete(self, kind: str, token: str) -> None:
        if is_address(kind, token):
            shutil.rmtree(self.root / kind / token, ignore_errors=True)

    def find(self, kind: str, token: str, name: str) -> LocalObject | None:
        if not is_address(kind, token, name):
            return None
        path = self.root / kind / token / name
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return LocalObject(path, info.st_size) if stat.S_ISREG(info.st_mode) else None
