"""kie's file uploads (stream, URL, base64), temporary download links, and file serving."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
import secrets
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator
from pydantic.config import JsonDict
from sqlalchemy import Connection

from genjobs.api.deps import Caller, Svc
from genjobs.api.envelope import envelope, ok
from genjobs.core.errors import ApiError, Code, InvalidInput, invalid
from genjobs.core.principal import Principal
from genjobs.files.fetch import FetchError, FetchTooLarge, open_stream
from genjobs.files.serving import file_response
from genjobs.files.storage import FileTooLarge, StoredFile, safe_file_name
from genjobs.store import files

router = APIRouter(tags=["files"])
DOWNLOAD_LINK_TTL_S = 20 * 60
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.-]+)*;base64,", re.I)
# Published in the schema: an optional data-URL prefix, then whole, non-empty base64.
_BASE64_SCHEMA: JsonDict = {
    "pattern": r"^(data:([A-Za-z0-9_.+-]+/[A-Za-z0-9_.+-]+)?(;[A-Za-z0-9_=.-]+)*;base64,)?"
    r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"
}
_HTTP_URL_SCHEMA: JsonDict = {"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\\s]+"}
# uploadPath is a label shown back in filePath (files are stored under random tokens, never
# under it): letters, digits, '.', '_', '-' and '/', not only slashes. Published in the
# schema; checked by hand so that the message reads as a rule.
_UPLOAD_PATH_PATTERN = "^[A-Za-z0-9._/-]*[A-Za-z0-9._-][A-Za-z0-9._/-]*$"
UPLOAD_PATH_SCHEMA: JsonDict = {"pattern": _UPLOAD_PATH_PATTERN, "minLength": 1, "maxLength": 200}
_UPLOAD_PATH = re.compile(_UPLOAD_PATH_PATTERN)


def _check_upload_path(value: str) -> str:
    if len(value) > 200 or not _UPLOAD_PATH.match(value):
        raise ValueError(
            "must be 1-200 characters of letters, digits, '.', '_', '-' and '/', not only slashes"
        )
    return value.strip("/")


class UrlUploadBody(BaseModel):
    fileUrl: str = Field(
        min_length=1,
        max_length=2000,
        description="http(s) URL to fetch.",
        json_schema_extra=_HTTP_URL_SCHEMA,
    )
    uploadPath: str = Field(
        description="Folder the file is filed under, e.g. `images/user`.",
        json_schema_extra=UPLOAD_PATH_SCHEMA,
    )
    fileName: str | None = Field(default=None, max_length=200)

    _path = field_validator("uploadPath")(_check_upload_path)


class Base64UploadBody(BaseModel):
    base64Data: str = Field(
        min_length=1, description="Plain base64 or a data URL.", json_schema_extra=_BASE64_SCHEMA
    )
    uploadPath: str = Field(json_schema_extra=UPLOAD_PATH_SCHEMA)
    fileName: str | None = Field(default=None, max_length=200)

    _path = field_validator("uploadPath")(_check_upload_path)


class DownloadUrlBody(BaseModel):
    url: str = Field(min_length=1, max_length=2000)


def _random_name(extension: str) -> str:
    return f"{secrets.token_hex(8)}{extension}"


async def _record_upload(
    svc: Svc, caller: Principal, stored: StoredFile, upload_path: str
) -> JSONResponse:
    retention_ms = int(svc.settings.retention_days * 86_400_000)
    created = await svc.db.run(
        partial(
            files.add,
            stored=stored,
            owner_id=caller.key_id,
            retention_ms=retention_ms,
            upload_path=upload_path,
        )
    )
    link = svc.storage.link(stored.kind, stored.token, stored.name, retention_ms / 1000)
    data = {
        "fileName": stored.name,
        "filePath": f"{upload_path}/{stored.name}",
        "downloadUrl": link,
        "fileSize": stored.size,
        "mimeType": stored.mime_type,
        "uploadedAt": datetime.fromtimestamp(created / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    }
    return JSONResponse({"success": True, **envelope(200, "File uploaded successfully", data)})


def _too_large(limit: int) -> InvalidInput:
    return invalid("file", f"is larger than the upload limit of {limit} bytes")


@router.post("/api/file-stream-upload", summary="Upload a file (multipart)")
async def stream_upload(
    caller: Caller,
    svc: Svc,
    file: Annotated[UploadFile, File(description="The file.")],
    uploadPath: Annotated[str, Form(json_schema_extra=UPLOAD_PATH_SCHEMA)],
    fileName: Annotated[str | None, Form(max_length=200)] = None,
) -> JSONResponse:
    try:
        upload_path = _check_upload_path(uploadPath)
    except ValueError as exc:
        raise invalid("uploadPath", str(exc)) from exc
    name = fileName or file.filename or _random_name("")
    limit = svc.settings.upload_max_bytes

    def chunks() -> Any:
        while chunk := file.file.read(1 << 20):
            yield chunk

    try:
        stored = await anyio.to_thread.run_sync(
            svc.storage.save_stream, "uploads", name, chunks(), limit
        )
    except FileTooLarge as exc:
        raise _too_large(limit) from exc
    return await _record_upload(svc, caller, stored, upload_path)


@router.post("/api/file-url-upload", summary="Upload a file from a URL")
async def url_upload(body: UrlUploadBody, caller: Caller, svc: Svc) -> JSONResponse:
    settings = svc.settings
    name = body.fileName or safe_file_name(body.fileUrl.split("?")[0], fallback=_random_name(""))
    stream = open_stream(
        body.fileUrl,
        allow_private=settings.allow_private_urls,
        timeout_s=settings.fetch_timeout_s,
        max_bytes=settings.upload_max_bytes,
    )
    try:
        stored = await anyio.to_thread.run_sync(
            svc.storage.save_stream, "uploads", name, stream, settings.upload_max_bytes
        )
    except FetchTooLarge as exc:
        raise invalid("fileUrl", str(exc)) from exc
    except FetchError as exc:
        raise invalid("fileUrl", str(exc)) from exc
    return await _record_upload(svc, caller, stored, body.uploadPath)


@router.post("/api/file-base64-upload", summary="Upload a file as base64 or a data URL")
async def base64_upload(body: Base64UploadBody, caller: Caller, svc: Svc) -> JSONResponse:
    data = body.base64Data.strip()
    extension = ""
    match = _DATA_URL.match(data)
    if match:
        extension = mimetypes.guess_extension(match.group("mime") or "") or ""
        data = data[match.end() :]
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid("base64Data", "is not valid base64") from exc
    if not content:
        raise invalid("base64Data", "decodes to an empty file")
    limit = svc.settings.upload_max_bytes
    if len(content) > limit:
        raise _too_large(limit)
    stored = await anyio.to_thread.run_sync(
        svc.storage.save_bytes, "uploads", body.fileName or _random_name(extension), content
    )
    return await _record_upload(svc, caller, stored, body.uploadPath)


@router.post("/api/v1/common/download-url", summary="A temporary (20 min) download link")
async def download_url(body: DownloadUrlBody, caller: Caller, svc: Svc) -> JSONResponse:
    parsed = svc.storage.parse_link(body.url)
    if parsed is None:  # no file of ours has that address
        raise ApiError(Code.NOT_FOUND, "url: file not found: not a file link of this service")
    kind, token, name = parsed

    def owned(conn: Connection) -> bool:
        row = files.get(conn, token)
        return row is not None and (caller.is_admin or row["owner_id"] == caller.key_id)

    if (
        not await svc.db.run(owned)
        or await anyio.to_thread.run_sync(svc.storage.find, kind, token, name) is None
    ):
        raise ApiError(Code.NOT_FOUND, "file not found")
    return ok(svc.storage.link(kind, token, name, DOWNLOAD_LINK_TTL_S))


@router.get("/files/{kind}/{token}/{name}", summary="A stored file (signed link)", tags=["files"])
async def serve_file(
    kind: str,
    token: str,
    name: str,
    request: Request,
    svc: Svc,
    expires: int = 0,
    signature: str = "",
) -> Response:
    if not svc.storage.check_signature(kind, token, name, expires, signature):
        raise ApiError(Code.UNAUTHORIZED, "invalid or expired link")

    def answer() -> Response | None:
        stored = svc.storage.find(kind, token, name)
        return None if stored is None else file_response(stored, name, request.headers)

    # The file may be in an object store: look it up and start reading it off the loop.
    response = await anyio.to_thread.run_sync(answer)
    if response is None:
        raise ApiError(Code.NOT_FOUND, "file not found")
    return response
