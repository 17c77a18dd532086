"""Request bodies are bounded before they are read whole, and no list page is unbounded."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from genjobs.api.app import create_app
from genjobs.config import Settings
from genjobs.store import tasks
from tests.conftest import ADMIN_KEY
from tests.helpers import create, wait_for
from tests.serverproc import ServerProcess


@pytest.fixture
def small_limit_client(settings: Settings) -> Iterator[TestClient]:
    limited = settings.model_copy(update={"max_body_bytes": 2000, "upload_max_bytes": 5000})
    with TestClient(create_app(limited), base_url=limited.base_url) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield client


def test_bodies_over_the_limit_are_413_and_store_nothing(small_limit_client: TestClient) -> None:
    client = small_limit_client
    before = client.get("/api/v1/chat/credit").json()["data"]
    body = {"model": "genjobs/echo", "input": {"text": "x"}, "unknown": "y" * 5000}
    refused = client.post("/api/v1/jobs/createTask", json=body)
    assert refused.status_code == 413, refused.text
    answer = refused.json()
    assert answer["code"] == 413 and answer["msg"] == answer["message"]
    assert "body:" in answer["msg"] and "2000 bytes (GENJOBS_MAX_BODY_BYTES)" in answer["msg"]

    # Without a Content-Length (chunked), the body is counted as it arrives.
    def chunks() -> Iterator[bytes]:
        payload = json.dumps(body).encode()
        for start in range(0, len(payload), 500):
            yield payload[start : start + 500]

    chunked = client.post(
        "/api/v1/jobs/createTask", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413, chunked.text
    # Other JSON endpoints share the limit; uploads have their own.
    cancel = client.post("/api/v1/jobs/cancel", json={"taskId": "x" * 3000})
    assert cancel.status_code == 413
    upload = client.post(
        "/api/file-stream-upload", files={"file": ("a.bin", b"z" * 4000)}, data={"uploadPath": "u"}
    )
    assert upload.status_code == 200, upload.text
    too_big = client.post(
        "/api/file-stream-upload",
        files={"file": ("a.bin", b"z" * 80_000)},
        data={"uploadPath": "u"},
    )
    assert too_big.status_code == 413 and "GENJOBS_UPLOAD_MAX_BYTES" in too_big.json()["msg"]

    assert client.get("/api/v1/jobs/list").json()["data"]["items"] == []
    assert client.get("/api/v1/chat/credit").json()["data"] == before
    small = client.post("/api/v1/jobs/createTask", json={**body, "unknown": "y"})
    assert small.status_code == 200


def test_a_declared_oversized_body_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    """A real server answers 413 on the headers alone: the client never sends 100 MB."""
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(
                b"POST /api/v1/jobs/createTask HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {server.api_key}\r\n".encode()
                + b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"
            )
            answer = b""
            while b"}" not in answer:  # the headers and the body may come apart
                chunk = sock.recv(65536)
                assert chunk, answer
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 413"), answer
        assert b'"code":413' in answer and b"GENJOBS_MAX_BODY_BYTES" in answer
    finally:
        server.stop()


def test_a_list_page_stops_at_its_byte_budget(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tasks of ~60 KB params against a 100 KB budget: a page holds one, whatever the limit.
    monkeypatch.setattr(tasks, "LIST_PAGE_MAX_BYTES", 100_000)
    ids = [create(client, {"text": str(i), "pad": "p" * 60_000}) for i in range(3)]
    for task_id in ids:
        wait_for(client, task_id)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/jobs/list", params=params).json()["data"]
        assert len(page["items"]) == 1  # a second 60 KB param would pass the budget
        seen += [item["taskId"] for item in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids)) and pages == 3
