"""Outages answer in the kie envelope and heal by themselves: the database refusing
connections is a 455 and a full disk a 507, on every endpoint, without dropping the
client's keep-alive connection (a real server, a real PostgreSQL behind a proxy that is
cut, a real tmpfs that fills up)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import reset_postgres
from tests.helpers import create, wait_for
from tests.serverproc import ServerProcess
from tests.tcpproxy import TcpProxy


class KeepAlive:
    """One HTTP/1.1 connection, asserted to stay open across every request."""

    def __init__(self, server: ServerProcess) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self._headers = {**server.headers, "Content-Type": "application/json"}
        self._sock: object = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        payload = None if body is None else json.dumps(body)
        self._conn.request(method, path, body=payload, headers=self._headers)
        response = self._conn.getresponse()
        answer = json.loads(response.read())
        if self._sock is None:
            self._sock = self._conn.sock
        assert self._conn.sock is self._sock, f"{method} {path} closed the connection"
        assert not response.will_close, f"{method} {path} asked to close the connection"
        assert answer["code"] == response.status, answer
        return response.status, answer

    def close(self) -> None:
        self._conn.close()


def assert_succeeds(server: ServerProcess, task_id: str) -> None:
    with httpx.Client(base_url=server.base_url, headers=server.headers) as client:
        done = wait_for(client, task_id)
    assert done["state"] == "success", (done["failCode"], done["failMsg"])


def every_endpoint(task_id: str) -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/api/v1/jobs/createTask", {"model": "genjobs/echo", "input": {"text": "x"}}),
        ("GET", f"/api/v1/jobs/recordInfo?taskId={task_id}", None),
        ("GET", "/api/v1/jobs/list", None),
        ("GET", "/api/v1/chat/credit", None),
        ("POST", "/api/v1/jobs/cancel", {"taskId": task_id}),
        ("GET", f"/api/v1/jobs/callbacks?taskId={task_id}", None),
        ("GET", "/healthz", None),
    ]


@pytest.fixture
def proxied_postgres(postgres_url: str) -> Iterator[tuple[TcpProxy, str]]:
    reset_postgres(postgres_url)
    parts = urlsplit(postgres_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    through_proxy = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    yield proxy, through_proxy
    proxy.close()


def test_postgres_down_answers_455_everywhere_and_recovers(
    proxied_postgres: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    proxy, database_url = proxied_postgres
    server = ServerProcess(tmp_path / "data", env={"GENJOBS_DATABASE_URL": database_url})
    server.start()
    connection = KeepAlive(server)
    try:
        with httpx.Client(base_url=server.base_url, headers=server.headers) as client:
            task_id = create(client, {"text": "before"})
            assert wait_for(client, task_id)["state"] == "success"
        proxy.down()
        for method, path, body in every_endpoint(task_id):
            status, answer = connection.call(method, path, body)
            assert status == 455, (path, answer)
            assert "database unavailable" in answer["msg"]
        proxy.up()
        status, answer = connection.call(*every_endpoint(task_id)[0])
        assert status == 200, answer
        assert_succeeds(server, answer["data"]["taskId"])
    finally:
        connection.close()
        server.stop()
    assert "Exception in ASGI application" not in server.log()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 48 MB tmpfs: a disk that can really fill up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI and the dev machine run as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as out:
        while True:
            out.write(b"\0" * (1 << 20))
    with contextlib.suppress(OSError), filler.open("ab") as out:
        while True:
            out.write(b"\0" * 4096)
            out.flush()
    return filler


def test_full_disk_answers_507_and_recovers(small_disk: Path, tmp_path: Path) -> None:
    server = ServerProcess(small_disk / "data")
    server.log_path = tmp_path / "server.log"  # the log must not need the full disk
    server.start()
    connection = KeepAlive(server)
    big_body = {"model": "genjobs/echo", "input": {"text": "x", "pad": "y" * 900_000}}
    try:
        with httpx.Client(base_url=server.base_url, headers=server.headers) as client:
            task_id = create(client, {"text": "before"})
            assert wait_for(client, task_id)["state"] == "success"
        filler = fill(small_disk)

        status, answer = connection.call("GET", f"/api/v1/jobs/recordInfo?taskId={task_id}")
        assert status == 200, answer  # reading needs no space
        statuses = {connection.call("POST", "/api/v1/jobs/createTask", big_body)[0]}
        assert statuses == {507}, statuses
        upload = httpx.post(
            f"{server.base_url}/api/file-stream-upload",
            headers=server.headers,
            files={"file": ("a.bin", os.urandom(200_000))},
            data={"uploadPath": "x"},
        )
        assert upload.status_code == 507 and upload.json()["code"] == 507, upload.text
        assert "storage full" in upload.json()["msg"]
        assert not any((small_disk / "data" / "files" / "uploads").glob("*/a.bin"))

        filler.unlink()
        status, answer = connection.call("POST", "/api/v1/jobs/createTask", big_body)
        assert status == 200, answer
        assert_succeeds(server, answer["data"]["taskId"])
    finally:
        connection.close()
        server.stop()
    assert "Exception in ASGI application" not in server.log()
