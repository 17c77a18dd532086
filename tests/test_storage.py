"""File storage behind one interface, on the local disk and in an S3 bucket.

Every behaviour test runs against both backends. The bucket lives in moto's S3 server,
started on a free loopback port for this module: a stand-in for S3 (or MinIO, Ceph,
R2, ...) that speaks S3's HTTP API, so boto3, in this process and in a real
`genjobs serve`, talks to it exactly as it would to a real bucket.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from genjobs.config import Settings
from genjobs.files.serving import RangeNotSatisfiable, byte_range
from genjobs.files.storage import (
    FileTooLarge,
    LocalStorage,
    Storage,
    StorageConfigError,
    open_storage,
)
from tests.helpers import create, result, wait_for
from tests.serverproc import GENJOBS, ServerProcess, free_port

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "genjobs-test",
    "AWS_SECRET_ACCESS_KEY": "genjobs-test",
    "AWS_DEFAULT_REGION": "us-east-1",
}
MB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server (the stand-in for S3), with the AWS variables boto3 reads."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in AWS_ENV.items():
            env.setenv(name, value)
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        yield f"http://127.0.0.1:{port}"
        server.stop()


def new_bucket(endpoint: str) -> str:
    name = f"genjobs-{secrets.token_hex(6)}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


def bucket_leftovers(endpoint: str, bucket: str) -> list[str]:
    """Every object and unfinished multipart upload in the bucket."""
    client = boto3.client("s3", endpoint_url=endpoint)
    objects = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return [item["Key"] for item in objects] + [f"upload {item['Key']}" for item in uploads]


@dataclass
class Backend:
    name: str
    storage_url: str  # GENJOBS_STORAGE_URL
    leftovers: Callable[[], list[str]]  # what the store holds

    def settings(self, data_dir: Path) -> Settings:
        return Settings(data_dir=data_dir, storage_url=self.storage_url, allow_private_urls=True)


def make_backend(name: str, data_dir: Path, endpoint: Callable[[], str]) -> Backend:
    if name == "local":  # <kind>/<token> folders and the files in them
        files = data_dir / "files"
        return Backend(
            name, "", lambda: sorted(str(p) for p in [*files.glob("*/*"), *files.glob("*/*/*")])
        )
    url = endpoint()
    bucket = new_bucket(url)
    return Backend(
        name,
        f"s3://{bucket}/genjobs?endpoint_url={url}&region=us-east-1",
        lambda: bucket_leftovers(url, bucket),
    )


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh, empty store: a data dir of its own, or a bucket of its own."""
    return make_backend(
        request.param, tmp_path / "data", lambda: request.getfixturevalue("s3_endpoint")
    )


@pytest.fixture
def storage(backend: Backend, tmp_path: Path) -> Storage:
    return open_storage(backend.settings(tmp_path / "data"))


def read_all(storage: Storage, kind: str, token: str, name: str) -> bytes:
    stored = storage.find(kind, token, name)
    assert stored is not None
    return b"".join(stored.read(0, stored.size))


def test_files_are_saved_read_whole_or_in_part_and_deleted(
    backend: Backend, storage: Storage, tmp_path: Path
) -> None:
    small = storage.save_bytes("uploads", "../notes/hello world.txt", b"hello world")
    assert (small.name, small.size, small.mime_type) == ("hello world.txt", 11, "text/plain")
    found = storage.find("uploads", small.token, small.name)
    assert found is not None and found.size == 11
    assert b"".join(found.read(6, 11)) == b"world" and b"".join(found.read(4, 4)) == b""

    # 9 MB in 1 MB chunks: S3 takes it as a multipart upload.
    chunks = [bytes([i]) * MB for i in range(9)]
    big = storage.save_stream("results", "clip.bin", chunks, max_bytes=10 * MB)
    assert big.size == 9 * MB and read_all(storage, "results", big.token, big.name) == b"".join(
        chunks
    )

    source = tmp_path / "render.mp4"
    source.write_bytes(b"\0\0\0\x18ftypmp42" + os.urandom(5000))
    data = source.read_bytes()
    moved = storage.save_path("results", "video.mp4", source)
    assert not source.exists() and (moved.size, moved.mime_type) == (len(data), "video/mp4")
    stored = storage.find("results", moved.token, moved.name)
    assert stored is not None
    dest = tmp_path / "work" / "input.mp4"
    dest.parent.mkdir()
    local = stored.materialize(dest)
    assert local.read_bytes() == data
    # The local backend hands out its own file; a bucket's file is downloaded to dest.
    assert (local == dest) == (backend.name == "s3")

    for file in (small, big, moved):
        storage.delete(file.kind, file.token)
        assert storage.find(file.kind, file.token, file.name) is None
        storage.delete(file.kind, file.token)  # twice: still no error
    assert backend.leftovers() == []


def test_a_file_over_the_limit_or_a_broken_source_leaves_nothing_behind(
    backend: Backend, storage: Storage
) -> None:
    with pytest.raises(FileTooLarge):
        storage.save_stream("uploads", "small.bin", [b"x" * 10, b"y" * 10], max_bytes=15)
    # Past the first 8 MB part: S3 has begun a multipart upload, which must be aborted.
    with pytest.raises(FileTooLarge):
        storage.save_stream("uploads", "big.bin", (b"z" * MB for _ in range(12)), 10 * MB)

    def broken() -> Iterator[bytes]:
        yield b"first"
        raise ConnectionResetError("the source went away")

    with pytest.raises(ConnectionResetError):  # the source's own error, unchanged
        storage.save_stream("uploads", "cut.bin", broken(), max_bytes=MB)
    assert backend.leftovers() == []


def test_links_are_signed_expire_and_verify_on_any_backend(
    storage: Storage, tmp_path: Path
) -> None:
    stored = storage.save_bytes("results", "report.pdf", b"%PDF-1.4")
    link = storage.link(stored.kind, stored.token, stored.name, ttl_s=60)
    assert storage.parse_link(link) == ("results", stored.token, "report.pdf")
    assert storage.verify_link(link)
    expired = storage.link(stored.kind, stored.token, stored.name, ttl_s=-1)
    for bad in (link.split("?")[0], expired, link.replace("signature=", "signature=0")):
        assert not storage.verify_link(bad), bad
    assert storage.parse_link(link.replace("127.0.0.1:8000", "example.com")) is None
    # Signing does not depend on where the bytes are: any store with the key verifies it.
    key = Settings(data_dir=tmp_path / "data").signing_key
    assert LocalStorage(tmp_path / "elsewhere", storage.base_url, key).verify_link(link)
    assert not LocalStorage(tmp_path / "elsewhere", storage.base_url, b"other").verify_link(link)


def test_unknown_or_crafted_addresses_find_nothing(storage: Storage) -> None:
    stored = storage.save_bytes("uploads", "a.txt", b"a")
    assert storage.find("uploads", secrets.token_urlsafe(18), "a.txt") is None
    assert storage.find("results", stored.token, "a.txt") is None
    for kind, token, name in (
        ("uploads", stored.token, ".."),
        ("uploads", "../../etc", "passwd"),
        ("secrets", stored.token, "a.txt"),
    ):
        assert storage.find(kind, token, name) is None
    storage.delete("uploads", "..")
    storage.delete("secrets", stored.token)
    assert storage.find("uploads", stored.token, "a.txt") is not None
    with pytest.raises(ValueError, match="unknown file kind"):
        storage.save_bytes("secrets", "a.txt", b"a")


@pytest.fixture(scope="module", params=["local", "s3"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, Backend]]:
    """A real `genjobs serve` (SQLite) whose files live in the backend."""
    data_dir = tmp_path_factory.mktemp(f"serve-{request.param}") / "data"
    store = make_backend(request.param, data_dir, lambda: request.getfixturevalue("s3_endpoint"))
    process = ServerProcess(data_dir, env={**AWS_ENV, "GENJOBS_STORAGE_URL": store.storage_url})
    process.start()
    yield process, store
    process.stop()
    assert "Traceback" not in process.log()


def upload_file(client: httpx.Client, name: str, content: bytes) -> httpx.Response:
    return client.post(
        "/api/file-stream-upload", files={"file": (name, content)}, data={"uploadPath": "tests"}
    )


def test_uploads_download_whole_in_ranges_and_by_a_fresh_link_through_the_api(
    server: tuple[ServerProcess, Backend],
) -> None:
    process, store = server
    content = os.urandom(300_000)
    with httpx.Client(base_url=process.base_url, headers=process.headers) as client:
        upload = upload_file(client, "clip one.bin", content)
        assert upload.status_code == 200, upload.text
        link = upload.json()["data"]["downloadUrl"]
        whole = httpx.get(link)
        assert whole.status_code == 200 and whole.content == content
        assert whole.headers["content-length"] == str(len(content))
        assert whole.headers["content-disposition"] == "attachment; filename*=utf-8''clip%20one.bin"
        assert whole.headers["accept-ranges"] == "bytes"

        part = httpx.get(link, headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == content[1000:2000]
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(content)}"
        tail = httpx.get(link, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == content[-10:]
        past = httpx.get(link, headers={"Range": f"bytes={len(content)}-"})
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{len(content)}"

        fresh = client.post("/api/v1/common/download-url", json={"url": link})
        assert fresh.status_code == 200 and httpx.get(fresh.json()["data"]).content == content

        encoded = client.post(
            "/api/file-base64-upload",
            json={"base64Data": "data:text/plain;base64,aGVsbG8=", "uploadPath": "tests"},
        )
        text = httpx.get(encoded.json()["data"]["downloadUrl"])
        assert text.content == b"hello" and text.headers["content-type"].startswith("text/plain")

    held = store.leftovers()
    assert any(path.endswith("/clip one.bin") for path in held)
    if store.name == "s3":  # the bytes are in the bucket, not under the data dir
        assert all(key.startswith("genjobs/uploads/") for key in held)
        assert not (process.data_dir / "files").exists()


def reference_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (30, 60, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_model_reads_an_uploaded_image_and_its_video_is_read_back_by_its_link(
    server: tuple[ServerProcess, Backend],
) -> None:
    process, store = server
    with httpx.Client(base_url=process.base_url, headers=process.headers) as client:
        upload = upload_file(client, "reference.png", reference_png())
        task_id = create(
            client,
            {
                "n_frames": "10",
                "image_urls": [upload.json()["data"]["downloadUrl"]],
                "shots": [{"Scene": "A blue sky", "duration": 2}],
            },
            model="sora-2-pro-storyboard",
        )
        done = wait_for(client, task_id, timeout_s=180)
    assert done["state"] == "success", (done["failCode"], done["failMsg"])
    video = httpx.get(result(done)["resultUrls"][0])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(video.content)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    assert len(frames) == 10 * float(stream.average_rate)
    top = frames[5].to_ndarray(format="rgb24")[:100].reshape(-1, 3).mean(axis=0)
    assert top[2] > top[0]  # the reference's blue, fetched from the store by the worker
    assert any("results/" in path and path.endswith("/video.mp4") for path in store.leftovers())


class Store:
    """A moto server of its own (a stand-in for S3) that can go down and come back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server: ThreadedMotoServer | None = None

    def up(self) -> None:
        # moto keeps its buckets in this process: they outlive a restart of the server.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def storyboard(client: httpx.Client, **extra: object) -> dict[str, object]:
    input = {"n_frames": "10", "shots": [{"Scene": "Rain", "duration": 1}], **extra}
    return wait_for(client, create(client, input, model="sora-2-pro-storyboard"), timeout_s=180)


def test_an_unreachable_bucket_answers_455_fails_tasks_readably_and_recovers(
    s3_endpoint: str, tmp_path: Path
) -> None:
    store = Store()  # s3_endpoint: for the AWS variables this process needs
    store.up()
    url = f"s3://{new_bucket(store.endpoint)}?endpoint_url={store.endpoint}"
    process = ServerProcess(tmp_path / "data", env={**AWS_ENV, "GENJOBS_STORAGE_URL": url})
    process.start()
    try:
        with httpx.Client(base_url=process.base_url, headers=process.headers) as client:
            before = client.post(
                "/api/file-base64-upload", json={"base64Data": "aGk=", "uploadPath": "x"}
            )
            link = before.json()["data"]["downloadUrl"]
            assert storyboard(client)["state"] == "success"  # the model's worker is up
            store.down()

            upload = client.post(
                "/api/file-stream-upload",
                files={"file": ("a.bin", b"abc")},
                data={"uploadPath": "x"},
            )
            assert upload.status_code == 455 and upload.json()["code"] == 455, upload.text
            assert upload.json()["msg"] == (
                "file storage unavailable: the object store cannot be reached; retry later"
            )
            assert upload.headers["retry-after"] == "5"
            assert httpx.get(link).status_code == 455

            failed = storyboard(client)
            assert (failed["state"], failed["failCode"]) == ("fail", "storage_unavailable")
            assert failed["failMsg"] == (
                "video.mp4 could not be stored: file storage unavailable: "
                "the object store cannot be reached; retry later"
            )
            cut_off = storyboard(client, image_urls=[link])
            assert (cut_off["state"], cut_off["failCode"]) == ("fail", "input_fetch_failed")

            store.up()
            assert httpx.get(link).content == b"hi"
            again = client.post(
                "/api/file-stream-upload",
                files={"file": ("a.bin", b"abc")},
                data={"uploadPath": "x"},
            )
            assert again.status_code == 200, again.text
    finally:
        process.stop()
        store.down()
    assert "Traceback" not in process.log()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("gs://bucket/x", "got the scheme 'gs'"),
        ("s3:///prefix", "the bucket '' is missing"),
        ("s3://bucket?endpoint=http://x", "unknown option endpoint"),
        ("s3://bucket?endpoint_url=ftp://x", "is not http(s)://HOST[:PORT]"),
    ],
)
def test_a_storage_url_that_breaks_the_rule_stops_the_start(
    url: str, problem: str, tmp_path: Path
) -> None:
    started = subprocess.run(
        [GENJOBS, "serve", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())],
        env={**os.environ, "GENJOBS_STORAGE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "GENJOBS_STORAGE_URL" in started.stderr and problem in started.stderr
    assert "must be empty (files on the local disk under the data dir) or s3://" in started.stderr
    assert "Traceback" not in started.stderr


def test_a_bucket_that_does_not_exist_stops_the_start(s3_endpoint: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", storage_url=f"s3://no-such-bucket?endpoint_url={s3_endpoint}"
    )
    with pytest.raises(StorageConfigError) as refused:
        open_storage(settings)
    assert str(refused.value).startswith(
        f"GENJOBS_STORAGE_URL: the bucket s3://no-such-bucket at {s3_endpoint} does not exist"
    )


def test_serving_answers_ranges_as_http_asks() -> None:
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-9", 100) == (0, 10)
    assert byte_range("bytes=90-", 100) == (90, 100)
    assert byte_range("bytes=90-1000", 100) == (90, 100)
    assert byte_range("bytes=-30", 100) == (70, 100)
    assert byte_range("bytes=-300", 100) == (0, 100)
    for ignored in ("bytes=5-3", "bytes=-", "bytes=0-1,5-6", "items=0-1"):
        assert byte_range(ignored, 100) is None, ignored
    for refused in ("bytes=100-", "bytes=-0"):
        with pytest.raises(RangeNotSatisfiable):
            byte_range(refused, 100)
