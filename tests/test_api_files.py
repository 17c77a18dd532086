"""kie's three upload endpoints, temporary links, isolation of files, inputs by URL and
retention (the SSRF guard is tested in test_ssrf)."""

from __future__ import annotations

import asyncio
import base64
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from genjobs.config import Settings
from genjobs.files.retention import purge_expired
from genjobs.files.storage import LocalStorage
from genjobs.store.database import Database
from tests.test_api_tasks import as_key, new_key

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving tmp_path/site."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "pic.png").write_bytes(PNG)
    (root / "big.bin").write_bytes(b"x" * 5000)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def check_upload(response: httpx.Response, name: str, size: int, mime: str, path: str) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["code"] == 200
    data = body["data"]
    assert data["fileName"] == name and data["fileSize"] == size
    assert data["mimeType"] == mime and data["filePath"] == f"{path}/{name}"
    assert data["uploadedAt"].endswith("Z")
    link: str = data["downloadUrl"]
    return link


def test_three_upload_ways_store_the_same_bytes(client: TestClient, static_site: str) -> None:
    stream = client.post(
        "/api/file-stream-upload",
        files={"file": ("pic.png", PNG, "image/png")},
        data={"uploadPath": "images/user"},
    )
    link = check_upload(stream, "pic.png", len(PNG), "image/png", "images/user")
    assert client.get(link).content == PNG

    by_url = client.post(
        "/api/file-url-upload",
        json={"fileUrl": f"{static_site}/pic.png", "uploadPath": "images", "fileName": "a.png"},
    )
    assert client.get(check_upload(by_url, "a.png", len(PNG), "image/png", "images")).content == PNG

    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    b64 = client.post("/api/file-base64-upload", json={"base64Data": data_url, "uploadPath": "b"})
    assert b64.json()["data"]["fileName"].endswith(".png")
    plain = client.post(
        "/api/file-base64-upload",
        json={"base64Data": base64.b64encode(PNG).decode(), "uploadPath": "b", "fileName": "c.png"},
    )
    assert client.get(check_upload(plain, "c.png", len(PNG), "image/png", "b")).content == PNG


def test_bad_uploads_are_422_and_leave_nothing(client: TestClient, settings: Settings) -> None:
    def message(response: httpx.Response) -> str:
        assert response.status_code == 422, response.text
        text: str = response.json()["msg"]
        return text

    assert (
        message(
            client.post("/api/file-base64-upload", json={"base64Data": "@@@", "uploadPath": "x"})
        )
        == "base64Data: is not valid base64"
    )
    assert message(
        client.post("/api/file-base64-upload", json={"base64Data": "", "uploadPath": "x"})
    ).startswith("base64Data:")
    assert message(
        client.post("/api/file-base64-upload", json={"base64Data": "QQ==", "uploadPath": "a b"})
    ).startswith("uploadPath:")
    assert (
        message(
            client.post(
                "/api/file-url-upload", json={"fileUrl": "file:///etc/passwd", "uploadPath": "x"}
            )
        )
        == "fileUrl: must be an http or https URL"
    )
    assert message(client.post("/api/file-stream-upload", data={"uploadPath": "x"})).startswith(
        "file: Field required"
    )
    uploads = settings.files_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_upload_size_limit(settings: Settings, static_site: str) -> None:
    from genjobs.api.app import create_app

    small = settings.model_copy(update={"upload_max_bytes": 1000})
    with TestClient(create_app(small), base_url=small.base_url) as client:
        client.headers["Authorization"] = "Bearer gj_test_admin_key"
        response = client.post(
            "/api/file-stream-upload",
            files={"file": ("big.bin", b"x" * 1001)},
            data={"uploadPath": "x"},
        )
        assert response.status_code == 422 and "limit of 1000 bytes" in response.json()["msg"]
        by_url = client.post(
            "/api/file-url-upload", json={"fileUrl": f"{static_site}/big.bin", "uploadPath": "x"}
        )
        assert by_url.status_code == 422 and by_url.json()["msg"].startswith("fileUrl:")
        assert not any((small.files_dir / "uploads").iterdir())


def test_links_are_signed_and_download_url_respects_owners(
    client: TestClient, settings: Settings
) -> None:
    alice, bob = as_key(new_key(settings)), as_key(new_key(settings))
    upload = client.post(
        "/api/file-stream-upload",
        files={"file": ("a.txt", b"alice")},
        data={"uploadPath": "docs"},
        headers=alice,
    )
    link = upload.json()["data"]["downloadUrl"]
    unsigned = link.split("?")[0]
    assert client.get(unsigned).status_code == 401
    assert client.get(link.replace("signature=", "signature=0")).status_code == 401

    temporary = client.post("/api/v1/common/download-url", json={"url": link}, headers=alice)
    assert temporary.status_code == 200
    temp_link = temporary.json()["data"]
    assert temp_link != link and client.get(temp_link).content == b"alice"
    assert (
        client.post("/api/v1/common/download-url", json={"url": link}, headers=bob).status_code
        == 404
    )
    outside = client.post(
        "/api/v1/common/download-url", json={"url": "https://example.com/x.png"}, headers=bob
    )
    assert outside.status_code == 404 and outside.json()["msg"].startswith("url: file not found")


def test_expired_files_are_purged(settings: Settings, client: TestClient) -> None:
    upload = client.post(
        "/api/file-stream-upload", files={"file": ("old.txt", b"old")}, data={"uploadPath": "x"}
    )
    link = upload.json()["data"]["downloadUrl"]
    storage = LocalStorage(settings.files_dir, settings.base_url, settings.signing_key)
    address = storage.parse_link(link)
    assert address is not None and storage.find(*address) is not None
    db = Database(settings.sqlalchemy_url)
    db.run_sync(lambda conn: conn.exec_driver_sql("UPDATE files SET expires_at = 0"))
    assert asyncio.run(purge_expired(db, storage)) == 1
    db.dispose()
    assert storage.find(*address) is None
    assert client.get(link).status_code == 404
