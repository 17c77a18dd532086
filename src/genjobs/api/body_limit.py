"""A size limit on every request body, enforced while it arrives.

A request whose ``Content-Length`` is over its limit is answered 413 before a byte of the
body is read; a body sent without a length (chunked) is counted as it streams and refused
as soon as it passes the limit, so no request can make the server hold more than its
limit in memory. JSON endpoints share ``GENJOBS_MAX_BODY_BYTES``; the upload endpoints
get the upload limit plus room for the multipart framing or the base64 expansion.

FastAPI's own ``max_body_size`` is fixed per route when the route is defined (these
limits come from settings), applies to GET requests too (recordInfo is the hot path), and
answers some refusals in plain text instead of the kie envelope; hence this middleware.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genjobs.api.envelope import failure
from genjobs.core.errors import Code

_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FRAMING_ALLOWANCE = 64 * 1024  # multipart headers and boundaries, JSON keys around base64


class BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing lets it through unchanged."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(
            Code.PAYLOAD_TOO_LARGE,
            f"body: the request body must be at most {limit} bytes ({setting})",
        )


def upload_limits(upload_max_bytes: int) -> dict[str, tuple[int, str]]:
    """Per-path limits of the upload endpoints, derived from the file size limit."""
    setting = "GENJOBS_UPLOAD_MAX_BYTES"
    multipart = upload_max_bytes + _FRAMING_ALLOWANCE
    base64_text = (upload_max_bytes + 2) // 3 * 4 + _FRAMING_ALLOWANCE
    return {
        "/api/file-stream-upload": (multipart, setting),
        "/api/file-base64-upload": (base64_text, setting),
    }


class BodyLimit:
    def __init__(
        self, app: ASGIApp, *, default_limit: int, by_path: Mapping[str, tuple[int, str]]
    ) -> None:
        self.app = app
        self._default = (default_limit, "GENJOBS_MAX_BODY_BYTES")
        self._by_path = dict(by_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit, setting = self._by_path.get(scope["path"], self._default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            error = BodyTooLarge(limit, setting)
            await failure(error.status_code, error.detail)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit, setting)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None
