"""Files on local disk under ``<data_dir>/files/<kind>/<token>/<name>``, served by signed links.

A link is ``<base>/files/<kind>/<token>/<name>?expires=<unix s>&signature=<hmac>``: the
token is unguessable and the signature bounds the link's life, so a link can be handed to
anyone without an API key (as kie's result links are).
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
import secrets
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

KINDS = ("uploads", "results")
_LINK_PATH = re.compile(r"^/files/(uploads|results)/([A-Za-z0-9_-]{16,64})/([^/]+)$")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")


class UnusableLink(Exception):
    """A link to a file of this service that may not be read (see ``verify_link``)."""


class FileTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"file exceeds the limit of {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class StoredFile:
    kind: str
    token: str
    name: str
    path: Path
    size: int
    mime_type: str


def safe_file_name(name: str, fallback: str = "file") -> str:
    """A plain base name: no directories, no control or shell-special characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = _UNSAFE_NAME_CHARS.sub("_", base).strip(". ")
    return base[:200] or fallback


def guess_mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class Storage:
    def __init__(self, root: Path, base_url: str, signing_key: bytes) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self._key = signing_key
        self._base_netloc = urlsplit(self.base_url).netloc

    # --- writing -------------------------------------------------------------------
    def _new_slot(self, kind: str, name: str) -> tuple[str, str, Path]:
        if kind not in KINDS:
            raise ValueError(f"unknown file kind {kind!r}")
        token = secrets.token_urlsafe(18)
        clean = safe_file_name(name)
        folder = self.root / kind / token
        folder.mkdir(parents=True)
        return token, clean, folder / clean

    def save_stream(
        self, kind: str, name: str, chunks: Iterable[bytes], max_bytes: int
    ) -> StoredFile:
        """Write chunks to a new file; nothing is left behind if the limit is passed."""
        token, clean, path = self._new_slot(kind, name)
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
        return StoredFile(kind, token, clean, path, size, guess_mime(clean))

    def save_bytes(self, kind: str, name: str, data: bytes) -> StoredFile:
        return self.save_stream(kind, name, [data], max_bytes=len(data))

    def save_path(self, kind: str, name: str, source: Path) -> StoredFile:
        """Move a finished file (e.g. a rendered video) into storage."""
        token, clean, path = self._new_slot(kind, name)
        shutil.move(str(source), path)
        return StoredFile(kind, token, clean, path, path.stat().st_size, guess_mime(clean))

    def delete(self, kind: str, token: str) -> None:
        if kind in KINDS and _LINK_PATH.match(f"/files/{kind}/{token}/x"):
            shutil.rmtree(self.root / kind / token, ignore_errors=True)

    # --- reading ---------------------------------------------------------------------
    def path_of(self, kind: str, token: str, name: str) -> Path | None:
        match = _LINK_PATH.match(f"/files/{kind}/{token}/{name}")
        if not match:
            return None
        path = self.root / kind / token / name
        return path if path.is_file() else None

    # --- links -----------------------------------------------------------------------
    def _signature(self, kind: str, token: str, name: str, expires: int) -> str:
        message = f"{kind}/{token}/{name}/{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def link(self, kind: str, token: str, name: str, ttl_s: float) -> str:
        expires = int(time.time() + ttl_s)
        signature = self._signature(kind, token, name, expires)
        return (
            f"{self.base_url}/files/{kind}/{token}/{quote(name)}"
            f"?expires={expires}&signature={signature}"
        )

    def check_signature(
        self, kind: str, token: str, name: str, expires: int, signature: str
    ) -> bool:
        if expires < time.time():
            return False
        expected = self._signature(kind, token, name, expires)
        # As bytes: compare_digest refuses a str with non-ASCII characters (a 500 before).
        return hmac.compare_digest(expected.encode(), signature.encode())

    def parse_link(self, url: str) -> tuple[str, str, str] | None:
        """(kind, token, name) when ``url`` points at a file of this service, else None."""
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unbalanced "[" in the host: not a link at all
            return None
        if parts.netloc != self._base_netloc:
            return None
        match = _LINK_PATH.match(unquote(parts.path))
        if not match:
            return None
        return match.group(1), match.group(2), match.group(3)

    def verify_link(self, url: str) -> bool:
        """Whether ``url``, a link of this service, is signed and unexpired: the check an
        HTTP download of it passes."""
        parsed = self.parse_link(url)
        if parsed is None:
            return False
        query = parse_qs(urlsplit(url).query)
        try:
            expires = int(query["expires"][0])
            signature = query["signature"][0]
        except (KeyError, ValueError):
            return False
        return self.check_signature(*parsed, expires, signature)

    def local_path_for_url(self, url: str) -> Path | None:
        """The stored file behind one of our own links, read without a network hop.

        Raises UnusableLink when the link is ours but would not download over HTTP
        (unsigned, tampered with or expired): reading from disk must not bypass that."""
        parsed = self.parse_link(url)
        if parsed is None:
            return None
        if not self.verify_link(url):
            raise UnusableLink("is an expired or unsigned link to a genjobs file")
        return self.path_of(*parsed)
