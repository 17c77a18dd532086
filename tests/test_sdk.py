"""The SDK against a real `genjobs serve` on loopback, sync and async."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from genjobs import AsyncClient, Client
from genjobs.client import (
    AuthenticationError,
    GenjobsConnectionError,
    NotFoundError,
    TaskFailedError,
    TaskTimeoutError,
    ValidationError,
)
from tests.serverproc import ServerProcess, free_port


@pytest.fixture
def client(live_server: ServerProcess) -> Client:
    return Client(base_url=live_server.base_url, api_key=live_server.api_key)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FileHost:
    """Another origin than the service (as kie.ai's CDN is for its results): serves
    ``body`` under the name ``disposition_name`` and keeps each request's headers."""

    def __init__(self, body: bytes, disposition_name: str) -> None:
        self.requests: list[dict[str, str]] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header(
                    "Content-Disposition", f'attachment; filename="{disposition_name}"'
                )
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def file_host() -> Iterator[FileHost]:
    host = FileHost(b"cdn bytes", "../named by server.mp4")
    yield host
    host.close()


def test_run_wait_and_read_results(client: Client) -> None:
    task = client.run("genjobs/echo", {"text": "hello sdk", "sleep_s": 0.5})
    assert task.succeeded and task.is_finished and task.progress == 100
    assert task.result == {"resultObject": {"text": "hello sdk"}}
    assert task.param == {"model": "genjobs/echo", "input": {"text": "hello sdk", "sleep_s": 0.5}}
    assert task.cost_time is not None and task.cost_time >= 500
    again = client.get_task(task.task_id)
    assert again == task


def test_failed_task_is_not_an_exception_until_asked(client: Client) -> None:
    task = client.run("genjobs/echo", {"text": "x", "fail": "nope"})
    assert task.state == "fail" and task.fail_code == "nope" and task.result is None
    with pytest.raises(TaskFailedError) as failure:
        task.result_or_raise()
    assert failure.value.fail_code == "nope"


def test_server_errors_carry_kie_codes(client: Client, live_server: ServerProcess) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.get_task("f" * 32)
    assert missing.value.code == 404 and "task not found" in missing.value.message
    with pytest.raises(ValidationError) as invalid:
        client.create_task("genjobs/echo", {"txt": "x"})
    assert invalid.value.code == 422 and "input.text" in invalid.value.message
    with pytest.raises(AuthenticationError):
        Client(base_url=live_server.base_url, api_key="gj_wrong").credit()
    with pytest.raises(GenjobsConnectionError):
        Client(base_url=f"http://127.0.0.1:{free_port()}", api_key="x").credit()


def test_timeout_then_cancel(client: Client) -> None:
    task_id = client.create_task("genjobs/echo", {"text": "slow", "sleep_s": 30})
    with pytest.raises(TaskTimeoutError):
        client.wait(task_id, timeout=1.0)
    client.cancel(task_id)
    task = client.wait(task_id, timeout=30)
    assert (task.state, task.fail_code) == ("fail", "canceled")


def test_list_credit_idempotency(client: Client) -> None:
    before = client.credit()
    first = client.create_task("genjobs/echo", {"text": "once"}, idempotency_key="sdk-key-1")
    second = client.create_task("genjobs/echo", {"text": "once"}, idempotency_key="sdk-key-1")
    assert first == second and client.credit() == before - 1
    client.wait(first)
    page = client.list_tasks(model="genjobs/echo", limit=2)
    assert len(page.items) == 2 and page.next_cursor
    assert any(task.task_id == first for task in client.iter_tasks(model="genjobs/echo"))


def test_upload_and_download(client: Client, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(b"some bytes \x00\x01")
    uploaded = client.upload_file(source, "docs")
    assert uploaded.file_name == "notes.txt" and uploaded.file_size == source.stat().st_size
    from_bytes = client.upload_file(b"raw", "docs", file_name="raw.bin")
    assert from_bytes.file_path == "docs/raw.bin"
    saved = client.download(client.download_url(uploaded.download_url), tmp_path / "copy.txt")
    assert saved.read_bytes() == source.read_bytes()
    (tmp_path / "dir").mkdir()
    assert client.download(from_bytes.download_url, tmp_path / "dir").read_bytes() == b"raw"


def test_download_dest_is_a_folder_when_it_ends_with_a_slash(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploaded = client.upload_file(b"result bytes", "docs", file_name="clip one.mp4")
    monkeypatch.chdir(tmp_path)
    # As the README has it: "out/" does not exist yet; it is made, and the file put in it.
    saved = client.download(uploaded.download_url, "out/")
    assert saved == Path("out", "clip one.mp4") and saved.read_bytes() == b"result bytes"
    assert (tmp_path / "out").is_dir()
    nested = client.download(uploaded.download_url, f"a{os.sep}b{os.sep}")
    assert nested == Path("a", "b", "clip one.mp4") and nested.is_file()
    # Without a slash: an existing folder is still a folder, anything else a file path.
    assert client.download(uploaded.download_url, "out") == Path("out", "clip one.mp4")
    as_file = client.download(uploaded.download_url, tmp_path / "x" / "y" / "renamed.bin")
    assert as_file.read_bytes() == b"result bytes"
    assert sorted(p.name for p in (tmp_path / "x" / "y").iterdir()) == ["renamed.bin"]


def test_download_from_another_host(client: Client, file_host: FileHost, tmp_path: Path) -> None:
    saved = client.download(f"{file_host.url}/opaque/v1?sig=abc", f"{tmp_path}/cdn/")
    # The server's name wins over the URL's; only its last part, so it stays in the folder.
    assert saved == tmp_path / "cdn" / "named by server.mp4"
    assert saved.read_bytes() == b"cdn bytes"
    # The service's API key is not sent to a host that is not the service.
    assert [r.get("Authorization") for r in file_host.requests] == [None]


def test_task_times_are_none_until_finished_and_ignored_keys_are_logged(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="genjobs.client"):
        task_id = client.create_task("genjobs/echo", {"text": "x", "sleep_s": 2, "colour": 1})
    assert f"task {task_id}: the model does not take (and ignored) input.colour" in caplog.text
    running = client.get_task(task_id)
    assert running.raw["costTime"] == 0 and running.raw["completeTime"] == 0
    assert (running.cost_time, running.complete_time) == (None, None)
    assert running.create_time is not None and running.create_time > 0
    done = client.wait(task_id, timeout=30)
    assert done.cost_time is not None and done.cost_time >= 2000
    assert done.complete_time is not None and done.complete_time >= done.create_time


def test_wait_reports_each_update(client: Client) -> None:
    seen: list[tuple[str, int]] = []
    task_id = client.create_task("genjobs/echo", {"text": "x", "sleep_s": 1})
    task = client.wait(task_id, on_update=lambda t: seen.append((t.state, t.progress)))
    assert seen[-1] == ("success", 100) and task.succeeded
    assert any(state == "generating" and 0 < progress < 100 for state, progress in seen)


def test_models_catalogue(client: Client) -> None:
    names = {model["name"] for model in client.models()}
    assert {"genjobs/echo", "elevenlabs/speech-to-text", "sora-2-pro-storyboard"} <= names


@pytest.mark.anyio
async def test_async_client(live_server: ServerProcess, tmp_path: Path) -> None:
    async with AsyncClient(base_url=live_server.base_url, api_key=live_server.api_key) as client:
        task = await client.run("genjobs/echo", {"text": "async"})
        assert task.result == {"resultObject": {"text": "async"}}
        failed = await client.run("genjobs/echo", {"text": "x", "fail": "bad"})
        assert failed.fail_code == "bad"
        slow = await client.create_task("genjobs/echo", {"text": "slow", "sleep_s": 30})
        with pytest.raises(TaskTimeoutError):
            await client.wait(slow, timeout=1.0)
        await client.cancel(slow)
        assert (await client.wait(slow, timeout=30)).fail_code == "canceled"
        with pytest.raises(NotFoundError):
            await client.get_task("0" * 32)
        uploaded = await client.upload_file(b"async bytes", "docs", file_name="a.txt")
        saved = await client.download(uploaded.download_url, tmp_path / "a.txt")
        assert saved.read_bytes() == b"async bytes"
        into = await client.download(uploaded.download_url, f"{tmp_path}/new/folder/")
        assert into == tmp_path / "new" / "folder" / "a.txt" and into.read_bytes() == b"async bytes"
        updates: list[int] = []
        waited = await client.wait(task.task_id, on_update=lambda t: updates.append(t.progress))
        assert waited.succeeded and updates == [100]
        listed = [t.task_id async for t in client.iter_tasks(model="genjobs/echo")]
        assert task.task_id in listed
        assert await client.credit() > 0
