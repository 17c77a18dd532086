"""Small helpers shared by the service tests."""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

FINAL = ("success", "fail")


class HttpClient(Protocol):
    def get(self, url: str, **kwargs: Any) -> Any: ...
    def post(self, url: str, **kwargs: Any) -> Any: ...


def create(
    client: HttpClient,
    input: dict[str, Any],
    model: str = "genjobs/echo",
    headers: dict[str, str] | None = None,
    **body: Any,
) -> str:
    response = client.post(
        "/api/v1/jobs/createTask", json={"model": model, "input": input, **body}, headers=headers
    )
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"]["taskId"]
    return task_id


def record(client: HttpClient, task_id: str, **kwargs: Any) -> dict[str, Any]:
    response = client.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}, **kwargs)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def wait_for(
    client: HttpClient,
    task_id: str,
    states: tuple[str, ...] = FINAL,
    timeout_s: float = 60.0,
    **kwargs: Any,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        data = record(client, task_id, **kwargs)
        if data["state"] in states:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(
                f"task {task_id} still {data['state']} after {timeout_s} s: {data}"
            )
        time.sleep(0.05)


def result(data: dict[str, Any]) -> Any:
    return json.loads(data["resultJson"])
