"""A stored file as the HTTP answer to its signed link: whole, or the one byte range a
video player asks for when it seeks (the dashboard plays result videos).

Stored files never change (every file has its own token), so a range always applies to
the bytes the client saw before. A request for several ranges gets the whole file, which
HTTP allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from starlette.responses import PlainTextResponse, Response, StreamingResponse

from genjobs.files.storage import StoredObject, guess_mime

_ONE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``[start, stop)`` of a single ``Range: bytes=...`` header, None for the whole file.

    Raises RangeNotSatisfiable for a range that starts past the end or is empty."""
    match = _ONE_RANGE.match(header.strip()) if header else None
    if match is None or size == 0:
        return None
    first, last = match.groups()
    if not first:  # "bytes=-N": the last N bytes
        if not last:
            return None  # "bytes=-" is malformed: ignored, as HTTP asks
        if int(last) == 0:
            raise RangeNotSatisfiable()
        return max(0, size - int(last)), size
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable()
    stop = min(size, int(last) + 1) if last else size
    return (start, stop) if stop > start else None  # "bytes=5-3" is malformed: ignored


def _disposition(name: str) -> str:
    quoted = quote(name)
    if quoted == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=utf-8''{quoted}"


def file_response(stored: StoredObject, name: str, request_headers: Mapping[str, str]) -> Response:
    """Call it in a worker thread: reading a stored object may wait on the network."""
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": _disposition(name)}
    # With If-Range the client wants the range only if the file is unchanged; a validator
    # we never sent cannot match, so it gets the whole file.
    wanted = None if "if-range" in request_headers else request_headers.get("range")
    try:
        span = byte_range(wanted, stored.size)
    except RangeNotSatisfiable:
        return PlainTextResponse(
            "range not satisfiable", 416, {"Content-Range": f"bytes */{stored.size}"}
        )
    start, stop = span or (0, stored.size)
    headers["Content-Length"] = str(stop - start)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{stored.size}"
    return StreamingResponse(stored.read(start, stop), status, headers, media_type=guess_mime(name))
