"""What the sync and async clients share: configuration, request bodies, envelope parsing,
SSE parsing and the polling schedule. Neither client does any of this itself."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from genjobs.client.errors import GenjobsConnectionError, error_for

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 60.0


def settings(base_url: str | None, api_key: str | None) -> tuple[str, dict[str, str]]:
    """The base URL and auth headers, from arguments or GENJOBS_BASE_URL / GENJOBS_API_KEY."""
    url = (base_url or os.environ.get("GENJOBS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    key = api_key or os.environ.get("GENJOBS_API_KEY") or ""
    headers = {"User-Agent": "genjobs-python"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return url, headers


def create_body(
    model: str, input: dict[str, Any], callback_url: str | None, progress_callback_url: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "input": input}
    if callback_url:
        body["callBackUrl"] = callback_url
    if progress_callback_url:
        body["progressCallBackUrl"] = progress_callback_url
    return body


def unwrap(response: httpx.Response) -> Any:
    """The envelope's ``data``, or the matching GenjobsError."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or "code" not in payload:
        if response.is_success:
            return payload
        raise error_for(response.status_code, response.text[:500] or response.reason_phrase)
    code = int(payload["code"])
    if code != 200:
        message = str(payload.get("msg") or payload.get("message") or "")
        raise error_for(code, message)
    return payload.get("data")


def connection_error(exc: httpx.HTTPError, base_url: str) -> GenjobsConnectionError:
    return GenjobsConnectionError(f"cannot reach {base_url}: {type(exc).__name__}: {exc}")


def upload_parts(
    source: str | Path | bytes, upload_path: str, file_name: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    if isinstance(source, bytes):
        content, name = source, file_name or "upload.bin"
    else:
        path = Path(source)
        content, name = path.read_bytes(), file_name or path.name
    data = {"uploadPath": upload_path}
    if file_name:
        data["fileName"] = file_name
    return {"file": (name, content)}, data


def parse_sse_data(line: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(line[5:].strip())
    return record


def sse_records(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Task records from a Server-Sent Events stream (``data:`` lines)."""
    for line in lines:
        if line.startswith("data:"):
            yield parse_sse_data(line)


def poll_delays(first: float) -> Iterator[float]:
    """Backoff between polls: ``first``, then x1.5 up to 5 s."""
    delay = first
    while True:
        yield delay
        delay = min(5.0, delay * 1.5)


def stream_unavailable(status_code: int) -> bool:
    """The server has no SSE stream (kie.ai itself): fall back to polling."""
    return status_code in (404, 405, 501)
