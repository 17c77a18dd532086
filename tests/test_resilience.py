"""Nothing is lost or stuck: real `genjobs serve` processes restarted, crashed and robbed of
their workers, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from genjobs.config import Settings
from genjobs.runtime.pool import ModelPool
from genjobs.store.database import Database
from tests.conftest import reset_postgres
from tests.helpers import create, record, wait_for
from tests.receiver import CallbackReceiver
from tests.serverproc import GENJOBS, ServerProcess, free_port


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {"GENJOBS_LEASE_S": "3"}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
        env["GENJOBS_DATABASE_URL"] = url
    process = ServerProcess(tmp_path / "data", env=env)
    yield process
    process.kill()


def api(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers=server.headers, timeout=30)


def database_of(server: ServerProcess) -> Database:
    url = server.env.get("GENJOBS_DATABASE_URL") or f"sqlite:///{server.data_dir / 'genjobs.db'}"
    return Database(url)


def worker_processes(server: ServerProcess) -> list[psutil.Process]:
    """The model worker processes the server has spawned."""
    assert server.process is not None
    return [
        child
        for child in psutil.Process(server.process.pid).children()
        if any("spawn_main" in part for part in child.cmdline())
    ]


def test_graceful_restart_finishes_waiting_queued_and_running_tasks(server: ServerProcess) -> None:
    server.start()
    with api(server) as client:
        running = [create(client, {"text": f"r{i}", "sleep_s": 3}) for i in range(4)]
        queued = [create(client, {"text": f"q{i}", "sleep_s": 0.2}) for i in range(2)]
        wait_for(client, running[0], states=("generating",))
        assert {record(client, t)["state"] for t in queued} == {"queuing"}
    server.stop()

    # A task stored but never handed on (as if the server died between the two steps).
    db = database_of(server)
    stranded = queued[0]
    db.run_sync(
        lambda c: c.execute(text("UPDATE tasks SET state='waiting' WHERE id=:i"), {"i": stranded})
    )
    states = db.run_sync(lambda c: dict(c.execute(text("SELECT id, state FROM tasks")).all()))
    db.dispose()
    assert {states[t] for t in running} == {"queuing"}  # handed back on shutdown

    server.start()
    with api(server) as client:
        for task_id in running + queued:
            data = wait_for(client, task_id, timeout_s=60)
            assert data["state"] == "success", data


def test_crashed_server_task_is_retried_after_its_lease_lapses(server: ServerProcess) -> None:
    server.start()
    with api(server) as client:
        task_id = create(client, {"text": "survivor", "sleep_s": 2})
        wait_for(client, task_id, states=("generating",))
    server.kill()  # SIGKILL the server and its worker processes
    killed_at = time.monotonic()
    server.start()
    with api(server) as client:
        data = wait_for(client, task_id, timeout_s=60)
    assert (
        data["state"] == "success"
        and data["resultJson"] == '{"resultObject": {"text": "survivor"}}'
    )
    assert time.monotonic() - killed_at < 60


def test_killed_worker_fails_only_its_task(server: ServerProcess) -> None:
    server.start()
    with api(server) as client:
        crashing = create(client, {"text": "x", "crash": True})
        data = wait_for(client, crashing)
        assert (data["state"], data["failCode"]) == ("fail", "worker_crashed"), data

        victim = create(client, {"text": "victim", "sleep_s": 30})
        while record(client, victim)["progress"] == 0:  # the model is running, not loading
            time.sleep(0.05)
        workers = worker_processes(server)
        assert workers
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
        data = wait_for(client, victim)
        assert (data["state"], data["failCode"]) == ("fail", "worker_crashed")
        assert "died" in data["failMsg"]
        # The server is unharmed and starts fresh workers.
        after = wait_for(client, create(client, {"text": "after"}))
        assert after["state"] == "success"
        assert client.get("/api/v1/chat/credit").json()["data"] == 1_000_000 - 1


def test_worker_processes_exit_when_the_server_dies(tmp_path: Path) -> None:
    # Only the server is killed (not its process group): a worker in the middle of a
    # 30 s model run must not live on as an orphan.
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        with api(server) as client:
            task_id = create(client, {"text": "orphan?", "sleep_s": 30})
            while record(client, task_id)["progress"] == 0:
                time.sleep(0.05)
        workers = worker_processes(server)
        assert workers
        server.process.send_signal(signal.SIGKILL)
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert alive == []
    finally:
        server.kill()


def test_pending_callback_is_delivered_after_a_restart(server: ServerProcess) -> None:
    port = free_port()  # nobody listens here yet: the first attempts fail
    server.env["GENJOBS_CALLBACK_RETRY_BASE_S"] = "1"
    server.start()
    with api(server) as client:
        task_id = create(client, {"text": "cb"}, callBackUrl=f"http://127.0.0.1:{port}/cb")
        wait_for(client, task_id)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            deliveries = client.get("/api/v1/jobs/callbacks", params={"taskId": task_id}).json()
            if deliveries["data"] and deliveries["data"][0]["attempts"]:
                break
            time.sleep(0.1)
        first = deliveries["data"][0]
        assert first["status"] == "pending" and first["attempts"][0]["statusCode"] is None
    server.stop()
    receiver = CallbackReceiver(port=port)
    try:
        server.start()
        [received] = receiver.wait_for(1, timeout_s=60)
        assert received.json()["data"]["taskId"] == task_id
    finally:
        receiver.close()


def test_model_timeout_fails_the_task(settings: Settings) -> None:
    from genjobs.api.app import create_app

    short = settings.model_copy(update={"model_timeout_s": 1.0})
    with TestClient(create_app(short), base_url=short.base_url) as client:
        client.headers["Authorization"] = "Bearer gj_test_admin_key"
        data = wait_for(client, create(client, {"text": "slow", "sleep_s": 20}), timeout_s=30)
        assert (data["state"], data["failCode"]) == ("fail", "timeout")
        assert "timeout of 1 s" in data["failMsg"]
        fine = wait_for(client, create(client, {"text": "quick"}), timeout_s=30)
        assert fine["state"] == "success"


def test_separate_worker_process_runs_tasks_on_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    reset_postgres(postgres_url)
    shared = {"GENJOBS_DATABASE_URL": postgres_url, "GENJOBS_LEASE_S": "3"}
    api_node = ServerProcess(tmp_path / "data", env={**shared, "GENJOBS_WORKERS": "false"})
    api_node.start()
    worker = None
    try:
        with api(api_node) as client:
            # Older than the echo task, so a worker that ran every model would claim it first.
            video = create(
                client,
                {"shots": [{"Scene": "not here", "duration": 1}], "n_frames": "10"},
                model="sora-2-pro-storyboard",
            )
            task_id = create(client, {"text": "remote"})
            time.sleep(1.5)
            assert record(client, task_id)["state"] == "queuing"  # nobody runs tasks yet
            worker_command = [GENJOBS, "worker", "--data-dir", str(tmp_path / "data")]
            typo = subprocess.run(
                [*worker_command, "--models", "genjobs/ecko"],
                env=api_node.env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert typo.returncode == 1
            assert "GENJOBS_WORKER_MODELS names models that are not installed" in typo.stderr
            worker = subprocess.Popen(
                [*worker_command, "--models", "genjobs/echo"],
                env={**api_node.env, "GENJOBS_WORKERS": "true"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            data = wait_for(client, task_id, timeout_s=60)
            assert data["state"] == "success"
            assert data["resultJson"] == '{"resultObject": {"text": "remote"}}'
            # The worker runs only the models it was given: the video waits for another.
            assert record(client, video)["state"] == "queuing"
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        api_node.kill()


def test_a_killed_worker_process_is_never_handed_to_the_next_task(tmp_path: Path) -> None:
    # SIGKILL takes a moment to land: a process killed (lost lease, cancel, timeout) must
    # not go back to the pool as a warm worker even if it still looks alive.
    settings = Settings(data_dir=tmp_path / "data")

    async def scenario() -> tuple[int | None, int | None, bool]:
        pool = ModelPool("genjobs/echo", 1, settings)
        pool.reserve()
        first = await pool.acquire(60)
        first.kill()
        pool.release(first)
        pool.reserve()
        second = await pool.acquire(60)
        try:
            return first.pid, second.pid, second.alive()
        finally:
            second.kill()
            pool.release(second)

    first_pid, second_pid, second_alive = asyncio.run(scenario())
    assert first_pid != second_pid and second_alive
