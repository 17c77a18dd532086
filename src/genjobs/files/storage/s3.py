"""Files in a bucket of any S3-compatible store, under ``<prefix><kind>/<token>/<name>``.

API nodes and workers on different machines share files through the bucket: a worker
uploads a result, and any API node streams it to whoever holds the signed link.
Imported only when GENJOBS_STORAGE_URL names a bucket (boto3 takes a while to import).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from genjobs.files.storage.base import Storage, StoredFile, StoredObject, guess_mime, new_address
from genjobs.files.storage.errors import (
    FileTooLarge,
    StorageConfigError,
    StorageError,
    StorageFull,
    StorageUnavailable,
)
from genjobs.files.storage.links import is_address
from genjobs.files.storage.location import S3Location

log = logging.getLogger("genjobs.storage")
CHUNK_BYTES = 256 * 1024
# Give up on an unreachable store within seconds (the request is answered 455 instead of
# hanging), and retry the brief errors a store answers under load.
CLIENT_CONFIG = {
    "connect_timeout": 5,
    "read_timeout": 60,
    "retries": {"mode": "standard", "max_attempts": 3},
}


def _status(exc: ClientError) -> int | None:
    status: int | None = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status


@contextmanager
def _store_errors(action: str, key: str) -> Iterator[None]:
    """Turn the store's failures into StorageErrors that say what failed but not where:
    the endpoint and keys go to the log, not to API clients."""
    try:
        yield
    except ClientError as exc:
        log.warning("S3 %s of %s failed: %s", action, key, exc)
        if _status(exc) == 507:  # e.g. MinIO's XMinioStorageFull
            raise StorageFull("storage full: the file store is full; retry later") from exc
        code = exc.response.get("Error", {}).get("Code", "error")
        raise StorageUnavailable(f"file storage unavailable (S3 {code}); retry later") from exc
    except (BotoCoreError, Boto3Error) as exc:
        log.warning("S3 %s of %s failed: %s", action, key, exc)
        raise StorageUnavailable(
            "file storage unavailable: the object store cannot be reached; retry later"
        ) from exc


class _CappedReader:
    """``chunks`` as the readable file boto3 uploads, refusing more than ``limit`` bytes.
    ``read(n)`` returns exactly n bytes until the end: boto3 cuts parts with it."""

    def __init__(self, chunks: Iterable[bytes], limit: int) -> None:
        self._chunks = iter(chunks)
        self._limit = limit
        self._pending = b""
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        parts, have = [self._pending], len(self._pending)
        while size < 0 or have < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.size += len(chunk)
            if self.size > self._limit:
                raise FileTooLarge(self._limit)
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        cut = len(data) if size < 0 else size
        self._pending = data[cut:]
        return data[:cut]


class S3Object(StoredObject):
    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self.size = size

    def read(self, start: int, stop: int) -> Iterator[bytes]:
        if stop <= start:  # S3 refuses an empty range
            return iter(())
        with _store_errors("read", self._key):
            answer = self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={start}-{stop - 1}"
            )
        return _body_chunks(answer["Body"])

    def materialize(self, dest: Path) -> Path:
        with _store_errors("download", self._key):
            self._client.download_file(self._bucket, self._key, str(dest))
        return dest


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


class S3Storage(Storage):
    def __init__(
        self, client: Any, location: S3Location, base_url: str, signing_key: bytes
    ) -> None:
        super().__init__(base_url, signing_key)
        self._client = client
        self._bucket = location.bucket
        self._prefix = location.prefix

    def _object_key(self, kind: str, token: str, name: str = "") -> str:
        return f"{self._prefix}{kind}/{token}/{name}"

    def _upload(self, source: BinaryIO | _CappedReader, key: str) -> None:
        """One object from ``source``; an upload that fails part-way is aborted by boto3,
        so nothing is left behind (also when ``source`` raises FileTooLarge)."""
        with _store_errors("upload", key):
            self._client.upload_fileobj(
                source, self._bucket, key, ExtraArgs={"ContentType": guess_mime(key)}
            )

    def save_stream(
        self, kind: str, name: str, chunks: Iterable[bytes], max_bytes: int
    ) -> StoredFile:
        token, clean = new_address(kind, name)
        reader = _CappedReader(chunks, max_bytes)
        self._upload(reader, self._object_key(kind, token, clean))
        return StoredFile(kind, token, clean, reader.size, guess_mime(clean))

    def save_path(self, kind: str, name: str, source: Path) -> StoredFile:
        token, clean = new_address(kind, name)
        size = source.stat().st_size
        with source.open("rb") as file:
            self._upload(file, self._object_key(kind, token, clean))
        source.unlink()
        return StoredFile(kind, token, clean, size, guess_mime(clean))

    def delete(self, kind: str, token: str) -> None:
        if not is_address(kind, token):
            return
        folder = self._object_key(kind, token)
        try:
            with _store_errors("delete", folder):
                listing = self._client.list_objects_v2(Bucket=self._bucket, Prefix=folder)
                for item in listing.get("Contents", []):
                    self._client.delete_object(Bucket=self._bucket, Key=item["Key"])
        except StorageError:
            pass  # logged; an object left behind costs space, not correctness

    def find(self, kind: str, token: str, name: str) -> S3Object | None:
        if not is_address(kind, token, name):
            return None
        key = self._object_key(kind, token, name)
        with _store_errors("lookup", key):
            try:
                head = self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if _status(exc) == 404:
                    return None
                raise
        return S3Object(self._client, self._bucket, key, int(head["ContentLength"]))


def connect(location: S3Location, base_url: str, signing_key: bytes) -> S3Storage:
    """The bucket GENJOBS_STORAGE_URL names, checked once: a bucket that is missing or
    cannot be reached stops the start instead of failing every upload later."""
    config = Config(**CLIENT_CONFIG, s3={"addressing_style": location.addressing_style})
    client = boto3.session.Session().client(
        "s3", endpoint_url=location.endpoint_url, region_name=location.region, config=config
    )
    where = f"s3://{location.bucket} at {location.endpoint_url or 'AWS'}"
    try:
        client.head_bucket(Bucket=location.bucket)
    except ClientError as exc:
        problem = "does not exist" if _status(exc) == 404 else f"refused access ({exc})"
        raise StorageConfigError(
            f"GENJOBS_STORAGE_URL: the bucket {where} {problem}; create the bucket, or fix "
            "the URL or the AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
        ) from exc
    except BotoCoreError as exc:
        raise StorageConfigError(
            f"GENJOBS_STORAGE_URL: cannot use the bucket {where}: {exc}"
        ) from exc
    return S3Storage(client, location, base_url, signing_key)
