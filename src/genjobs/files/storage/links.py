"""Signed links to stored files, the same whatever backend holds the bytes.

A link is ``<base>/files/<kind>/<token>/<name>?expires=<unix s>&signature=<hmac>``: the
token is unguessable and the signature bounds the link's life, so a link can be handed to
anyone without an API key (as kie's result links are). Links always point at the API
(which streams the bytes from the backend), so a link made by a worker on one machine
opens on any API node that has the same GENJOBS_SECRET_KEY.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import parse_qs, quote, unquote, urlsplit

KINDS = ("uploads", "results")
_LINK_PATH = re.compile(r"^/files/(uploads|results)/([A-Za-z0-9_-]{16,64})/([^/]+)$")


def is_address(kind: str, token: str, name: str = "file") -> bool:
    """Whether (kind, token, name) can name a stored file: backends check this before
    they touch anything, so a crafted token or name never reaches a path or a key."""
    return _LINK_PATH.match(f"/files/{kind}/{token}/{name}") is not None


class SignedLinks:
    def __init__(self, base_url: str, signing_key: bytes) -> None:
        self.base_url = base_url.rstrip("/")
        self._signing_key = signing_key
        self._base_netloc = urlsplit(self.base_url).netloc

    def _signature(self, kind: str, token: str, name: str, expires: int) -> str:
        message = f"{kind}/{token}/{name}/{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()[:32]

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
