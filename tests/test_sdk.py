"""The SDK against a real `genjobs serve` on loopback, sync and async."""

from __future__ import annotations

from pathlib import Path

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
        listed = [t.task_id async for t in client.iter_tasks(model="genjobs/echo")]
        assert task.task_id in listed
        assert await client.credit() > 0
