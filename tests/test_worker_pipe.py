"""Results and inputs far larger than a pipe's buffer cross between the server and its
worker processes whole, while other processes load the CPU (a real `genjobs serve` on
uvloop, as in production)."""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers import create, wait_for
from tests.serverproc import ServerProcess


def _spin(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


@pytest.fixture
def busy_cpu() -> Iterator[None]:
    """Three processes spinning on two cores for the duration of the test."""
    stop_at = time.monotonic() + 120
    spinners = [multiprocessing.Process(target=_spin, args=(stop_at,)) for _ in range(3)]
    for spinner in spinners:
        spinner.start()
    yield
    for spinner in spinners:
        spinner.kill()
        spinner.join()


def test_large_results_and_inputs_cross_the_pipe_under_load(tmp_path: Path, busy_cpu: None) -> None:
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=60) as client:
            cases: list[tuple[dict[str, object], str]] = []
            for index in range(48):
                text = f"{index:04d}" + "abcdefghij" * 999  # ~10 KB, distinct per task
                repeat = 10 + (index % 10) * 10  # results of 100 KB to 1 MB
                cases.append(({"text": text, "repeat": repeat}, text * repeat))
            for index in range(6):  # inputs of ~500 KB (kept, unknown keys ride along)
                text = f"in{index}"
                cases.append(({"text": text, "padding": "p" * 500_000}, text))

            with ThreadPoolExecutor(4) as pool:
                ids = list(pool.map(lambda case: create(client, case[0]), cases))
            for task_id, (_, expected) in zip(ids, cases, strict=True):
                record = wait_for(client, task_id, timeout_s=120)
                assert record["state"] == "success", (record["failCode"], record["failMsg"])
                assert json.loads(record["resultJson"])["resultObject"]["text"] == expected
    finally:
        server.stop()
    assert "BrokenPipeError" not in server.log()
