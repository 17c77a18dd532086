"""What the sync and async clients share: configuration, request bodies, envelope parsing,
SSE parsing and the polling schedule. Neither client does any of this itself."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

import httpx

from genjobs.client.errors import GenjobsConnectionError, error_for

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_DOWNLOAD_NAME = "download"

log = logging.getLogger("genjobs.client")


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


def created_task_id(data: dict[str, Any]) -> str:
    """createTask's taskId. Input keys the model does not know are ignored by the server, not
    refused, so they are logged: a misspelt option would otherwise pass unnoticed."""
    task_id = str(data["taskId"])
    ignored = data.get("ignoredInputKeys")
    if ignored:
        keys = ", ".join(map(str, ignored))
        log.warning("task %s: the model does not take (and ignored) %s", task_id, keys)
    return task_id


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


def ignore_update(task: object) -> None:
    """The default ``on_update`` of ``wait``."""


def poll_delays(first: float) -> Iterator[float]:
    """Backoff between polls: ``first``, then x1.5 up to 5 s."""
    delay = first
    while True:
        yield delay
        delay = min(5.0, delay * 1.5)


def stream_unavailable(status_code: int) -> bool:
    """The server has no SSE stream (kie.ai itself): fall back to polling."""
    return status_code in (404, 405, 501)


def download_request(http: httpx.Client | httpx.AsyncClient, url: str) -> httpx.Request:
    """A GET of ``url``, with the API key only when it goes to the service itself: result
    links may point at another host (kie.ai's CDN), which must not receive the key."""
    request = http.build_request("GET", url)
    if (request.url.scheme, request.url.netloc) != (http.base_url.scheme, http.base_url.netloc):
        request.headers.pop("Authorization", None)
    return request


def download_target(dest: str | Path, url: str, headers: httpx.Headers) -> Path:
    """Where a download goes. A ``dest`` that ends with a slash or is a folder is a folder
    (made if missing) and the file is named by Content-Disposition or the URL's path; any
    other ``dest`` is the file itself, its parent folders made if missing."""
    text = os.fspath(dest)
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        return path / download_name(url, headers.get("content-disposition"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def download_name(url: str, disposition: str | None) -> str:
    """The file name the server gave (Content-Disposition), else the URL path's last part."""
    suggested = None
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        suggested = message.get_filename()
    from_url = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    for name in (suggested, from_url):
        safe = _plain_file_name(name or "")
        if safe:
            return safe
    return DEFAULT_DOWNLOAD_NAME


def _plain_file_name(name: str) -> str:
    """The last part of a name a server chose, so it cannot point outside the folder."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "" if last in ("", ".", "..") else last


@contextlib.contextmanager
def partial_file(target: Path) -> Iterator[BinaryIO]:
    """Write beside ``target`` and move into place at the end, so a broken download leaves
    no truncated file under the final name (and never half-overwrites an older one)."""
    part = target.with_name(target.name + ".part")
    try:
        with part.open("wb") as out:
            yield out
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
