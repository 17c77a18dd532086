"""The Jobs API in-process, on SQLite and on PostgreSQL: life cycle, credits, validation,
idempotency, tenant isolation, listing, cancel, rate limits and the catalogue."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from genjobs.api.app import create_app
from genjobs.config import Settings
from genjobs.store import keys
from genjobs.store.database import Database
from tests.conftest import ADMIN_KEY
from tests.helpers import create, record, result, wait_for


def new_key(settings: Settings, credits: float = 100.0) -> str:
    db = Database(settings.sqlalchemy_url)
    _, raw = db.run_sync(lambda conn: keys.create_key(conn, name="user", credits=credits))
    db.dispose()
    return raw


def as_key(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_echo_passes_every_state_and_reports_kie_record(client: TestClient) -> None:
    body = {"model": "genjobs/echo", "input": {"text": "héllo", "sleep_s": 0.6}, "extra": 1}
    created = client.post("/api/v1/jobs/createTask", json=body)
    assert created.status_code == 200
    envelope = created.json()
    assert envelope["code"] == 200 and envelope["msg"] == envelope["message"]
    task_id = envelope["data"]["taskId"]
    assert len(task_id) >= 32

    seen = []
    with client.stream("GET", "/api/v1/jobs/stream", params={"taskId": task_id}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
    states = [event["state"] for event in seen]
    assert states[-1] == "success"
    assert "generating" in states
    progress = [event["progress"] for event in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert any(0 < p < 100 for p in progress), progress

    data = record(client, task_id)
    assert data["state"] == "success"
    assert json.loads(data["param"]) == body
    assert result(data) == {"resultObject": {"text": "héllo"}}
    assert data["failCode"] == "" and data["failMsg"] == ""
    now_ms = time.time() * 1000
    assert abs(data["createTime"] - now_ms) < 60_000  # Unix milliseconds
    assert data["createTime"] <= data["updateTime"] == data["completeTime"]
    assert data["costTime"] >= 600 - 50


def test_waiting_and_queuing_are_real_states(client: TestClient) -> None:
    # Echo runs 4 at a time; the fifth and sixth wait in `queuing` until a slot frees.
    ids = [create(client, {"text": str(i), "sleep_s": 1.5}) for i in range(6)]
    states = {record(client, task_id)["state"] for task_id in ids}
    assert "queuing" in states and "generating" in states
    for task_id in ids:
        assert wait_for(client, task_id)["state"] == "success"


def test_model_concurrency_is_never_exceeded(client: TestClient) -> None:
    # Burst-create more tasks than echo's 4 slots; at no moment may more than 4 generate.
    ids = [create(client, {"text": str(i), "sleep_s": 0.5}) for i in range(12)]
    most = 0
    while True:  # one list query is one consistent snapshot of the table
        page = client.get("/api/v1/jobs/list", params={"limit": 100}).json()["data"]["items"]
        states = [item["state"] for item in page if item["taskId"] in ids]
        most = max(most, states.count("generating"))
        if states.count("success") == len(ids):
            break
    assert 1 <= most <= 4


def test_concurrency_setting_overrides_the_models_own(settings: Settings) -> None:
    # GENJOBS_CONCURRENCY={"genjobs/echo": 1}: one echo process, so tasks run one by one.
    one_at_a_time = settings.model_copy(update={"concurrency": {"genjobs/echo": 1}})
    with TestClient(create_app(one_at_a_time), base_url=settings.base_url) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        echo = client.get("/api/v1/models/genjobs/echo").json()["data"]
        assert echo["concurrency"] == 1
        ids = [create(client, {"text": str(i), "sleep_s": 0.3}) for i in range(3)]
        most = 0
        while True:
            page = client.get("/api/v1/jobs/list", params={"limit": 100}).json()["data"]["items"]
            states = [item["state"] for item in page if item["taskId"] in ids]
            most = max(most, states.count("generating"))
            if states.count("success") == len(ids):
                break
        assert most == 1


def test_failure_refunds_credits_and_402_when_short(client: TestClient, settings: Settings) -> None:
    user = as_key(new_key(settings, credits=2.0))
    assert client.get("/api/v1/chat/credit", headers=user).json()["data"] == 2.0
    failing = create(client, {"text": "x", "fail": "bad_luck"}, headers=user)
    data = wait_for(client, failing, headers=user)
    assert (data["state"], data["failCode"]) == ("fail", "bad_luck")
    assert "bad_luck" in data["failMsg"] and data["resultJson"] == ""
    assert client.get("/api/v1/chat/credit", headers=user).json()["data"] == 2.0

    create(client, {"text": "a"}, headers=user)
    create(client, {"text": "b"}, headers=user)
    short = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "genjobs/echo", "input": {"text": "c"}},
        headers=user,
    )
    assert short.status_code == 402 and short.json()["code"] == 402
    assert "insufficient credits" in short.json()["msg"]
    listed = client.get("/api/v1/jobs/list", headers=user).json()["data"]["items"]
    assert len(listed) == 3  # the refused task left nothing behind


def test_validation_errors_name_the_field(client: TestClient) -> None:
    def error(body: object) -> str:
        response = client.post("/api/v1/jobs/createTask", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == 422
        message: str = response.json()["msg"]
        return message

    assert "model" in error({"input": {"text": "x"}})
    assert error({"model": "nope/nope", "input": {}}).startswith("model: unknown model 'nope/nope'")
    assert error({"model": "genjobs/echo", "input": {}}) == "input.text: Field required"
    assert "input.sleep_s" in error(
        {"model": "genjobs/echo", "input": {"text": "x", "sleep_s": -1}}
    )
    assert "input.crash" in error({"model": "genjobs/echo", "input": {"text": "x", "crash": "?"}})
    assert error(
        {"model": "genjobs/echo", "input": {"text": "x"}, "callBackUrl": "ftp://example.com/cb"}
    ).startswith("callBackUrl: must be an http or https URL")
    bad_json = client.post(
        "/api/v1/jobs/createTask",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422
    assert client.get("/api/v1/jobs/list").json()["data"]["items"] == []


def test_auth_is_required_and_checked(client: TestClient) -> None:
    bare = {"Authorization": ""}
    assert client.get("/api/v1/chat/credit", headers=bare).status_code == 401
    wrong = client.get("/api/v1/chat/credit", headers={"Authorization": "Bearer gj_wrong"})
    assert wrong.status_code == 401 and wrong.json()["code"] == 401
    assert client.get("/healthz", headers=bare).json()["data"]["status"] == "ok"


def test_idempotency_key_returns_the_same_task_and_charges_once(
    client: TestClient, settings: Settings
) -> None:
    user = as_key(new_key(settings, credits=10.0))
    body = {"model": "genjobs/echo", "input": {"text": "once"}}
    first = client.post(
        "/api/v1/jobs/createTask", json=body, headers={**user, "Idempotency-Key": "k-1"}
    )
    again = client.post(
        "/api/v1/jobs/createTask", json=body, headers={**user, "Idempotency-Key": "k-1"}
    )
    assert first.json()["data"]["taskId"] == again.json()["data"]["taskId"]
    assert client.get("/api/v1/chat/credit", headers=user).json()["data"] == 9.0
    other_body = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "genjobs/echo", "input": {"text": "different"}},
        headers={**user, "Idempotency-Key": "k-1"},
    )
    assert other_body.status_code == 422
    assert other_body.json()["msg"].startswith("Idempotency-Key:")


def test_concurrent_creates_each_get_their_own_answer(
    client: TestClient, settings: Settings
) -> None:
    # Creates that arrive together share one transaction on SQLite (group commit): a
    # refusal in the batch must not affect the others, and idempotent repeats inside
    # one batch must still make one task.
    user = as_key(new_key(settings, credits=3.0))
    barrier = threading.Barrier(10)

    def post(index: int, idempotency_key: str | None = None) -> Any:
        headers = (
            dict(user) if idempotency_key is None else {**user, "Idempotency-Key": idempotency_key}
        )
        barrier.wait()
        return client.post(
            "/api/v1/jobs/createTask",
            json={"model": "genjobs/echo", "input": {"text": f"t{index}"}},
            headers=headers,
        )

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(post, range(10)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 3 + [402] * 7
    created = {r.json()["data"]["taskId"] for r in responses if r.status_code == 200}
    listed = client.get("/api/v1/jobs/list", headers=user).json()["data"]["items"]
    assert {item["taskId"] for item in listed} == created and len(created) == 3
    assert client.get("/api/v1/chat/credit", headers=user).json()["data"] == 0.0

    payer = as_key(new_key(settings, credits=10.0))
    user = payer
    barrier.reset()
    with ThreadPoolExecutor(10) as pool:
        repeats = list(pool.map(lambda _: post(0, "same-key"), range(10)))
    assert {r.status_code for r in repeats} == {200}
    assert len({r.json()["data"]["taskId"] for r in repeats}) == 1
    assert client.get("/api/v1/chat/credit", headers=payer).json()["data"] == 9.0


def test_tenants_see_only_their_own_tasks(client: TestClient, settings: Settings) -> None:
    alice, bob = as_key(new_key(settings)), as_key(new_key(settings))
    task_id = create(client, {"text": "alice's", "sleep_s": 2}, headers=alice)
    hidden = client.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}, headers=bob)
    assert hidden.status_code == 404 and hidden.json()["code"] == 404
    cancel = client.post("/api/v1/jobs/cancel", json={"taskId": task_id}, headers=bob)
    assert cancel.status_code == 404
    stream = client.get("/api/v1/jobs/stream", params={"taskId": task_id}, headers=bob)
    assert stream.status_code == 404
    assert client.get("/api/v1/jobs/list", headers=bob).json()["data"]["items"] == []
    # The admin key sees everything.
    assert record(client, task_id)["state"] in ("queuing", "generating", "waiting")
    assert wait_for(client, task_id, headers=alice)["state"] == "success"


def test_list_paginates_with_a_cursor_and_filters(client: TestClient) -> None:
    ids = [create(client, {"text": str(i)}) for i in range(5)]
    failed = create(client, {"text": "f", "fail": "nope"})
    for task_id in [*ids, failed]:
        wait_for(client, task_id)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/jobs/list", params=params).json()["data"]
        seen += [item["taskId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    # Newest first, each task once; tasks created in the same millisecond come in taskId
    # order, the cursor's.
    created = {t: record(client, t)["createTime"] for t in [*ids, failed]}
    assert seen == sorted(created, key=lambda t: (created[t], t), reverse=True)
    only_failed = client.get("/api/v1/jobs/list", params={"state": "fail"}).json()["data"]
    assert [item["taskId"] for item in only_failed["items"]] == [failed]
    by_model = client.get("/api/v1/jobs/list", params={"model": "other/model"}).json()["data"]
    assert by_model["items"] == []
    assert client.get("/api/v1/jobs/list", params={"state": "done"}).status_code == 422
    assert client.get("/api/v1/jobs/list", params={"cursor": "garbage"}).status_code == 422


def test_cancel_a_running_and_a_queued_task(client: TestClient, settings: Settings) -> None:
    user = as_key(new_key(settings, credits=50))
    running = create(client, {"text": "long", "sleep_s": 30}, headers=user)
    wait_for(client, running, states=("generating",), headers=user)
    blockers = [create(client, {"text": "b", "sleep_s": 30}, headers=user) for _ in range(3)]
    queued = create(client, {"text": "q"}, headers=user)
    assert record(client, queued, headers=user)["state"] in ("waiting", "queuing")
    response = client.post("/api/v1/jobs/cancel", json={"taskId": queued}, headers=user)
    assert response.status_code == 200 and response.json()["data"]["state"] == "fail"
    assert response.json()["data"]["failCode"] == "canceled"

    for task_id in [running, *blockers]:
        client.post("/api/v1/jobs/cancel", json={"taskId": task_id}, headers=user)
    for task_id in [running, *blockers]:
        data = wait_for(client, task_id, timeout_s=20, headers=user)
        assert (data["state"], data["failCode"]) == ("fail", "canceled")
    assert client.get("/api/v1/chat/credit", headers=user).json()["data"] == 50
    again = client.post("/api/v1/jobs/cancel", json={"taskId": running}, headers=user)
    assert again.status_code == 422 and "already finished" in again.json()["msg"]


def test_rate_limit_applies_per_key_but_not_to_admins(
    client: TestClient, settings: Settings
) -> None:
    user = as_key(new_key(settings, credits=1000))
    codes = [
        client.post(
            "/api/v1/jobs/createTask",
            json={"model": "genjobs/echo", "input": {"text": "r"}},
            headers=user,
        ).status_code
        for _ in range(settings.rate_limit + 1)
    ]
    assert codes[: settings.rate_limit] == [200] * settings.rate_limit
    assert codes[-1] == 429
    limited = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "genjobs/echo", "input": {"text": "r"}},
        headers=user,
    )
    assert limited.json()["code"] == 429 and int(limited.headers["Retry-After"]) >= 1
    for _ in range(settings.rate_limit + 1):
        create(client, {"text": "admin"})


def test_model_catalogue_openapi_and_metrics(client: TestClient) -> None:
    models = client.get("/api/v1/models").json()["data"]
    echo = next(model for model in models if model["name"] == "genjobs/echo")
    assert echo["inputSchema"]["required"] == ["text"]
    assert echo["price"] > 0 and echo["concurrency"] >= 1
    one = client.get("/api/v1/models/genjobs/echo").json()["data"]
    assert one["name"] == "genjobs/echo"
    assert client.get("/api/v1/models/not/there").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/jobs/createTask", "/api/v1/jobs/recordInfo", "/api/file-stream-upload"} <= set(
        paths
    )
    wait_for(client, create(client, {"text": "m"}))
    text = client.get("/metrics").text
    assert 'genjobs_tasks_created_total{model="genjobs/echo"}' in text
    assert "genjobs_tasks_active" in text


def test_unknown_task_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/jobs/recordInfo", params={"taskId": "0" * 32})
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "msg": f"task not found: {'0' * 32}",
        "message": f"task not found: {'0' * 32}",
        "data": None,
    }
    assert client.get("/api/v1/jobs/recordInfo").status_code == 422


def test_unknown_input_keys_are_ignored_unless_strict(
    client: TestClient, settings: Settings
) -> None:
    body = {
        "model": "genjobs/echo",
        "input": {"text": "hi", "resolution": "1080p", "output_format": "png"},
    }
    created = client.post("/api/v1/jobs/createTask", json=body)
    assert created.status_code == 200, created.text
    data = created.json()["data"]
    assert data["ignoredInputKeys"] == ["input.resolution", "input.output_format"]
    finished = wait_for(client, data["taskId"])
    assert finished["state"] == "success" and result(finished)["resultObject"]["text"] == "hi"
    assert json.loads(finished["param"]) == body  # kie's param: the body as sent
    # Known keys keep their rules, whatever else is sent beside them.
    wrong = client.post(
        "/api/v1/jobs/createTask",
        json={"model": "genjobs/echo", "input": {"text": 5, "resolution": "1080p"}},
    )
    assert wrong.status_code == 422 and wrong.json()["msg"].startswith("input.text:")
    plain = client.post(
        "/api/v1/jobs/createTask", json={"model": "genjobs/echo", "input": {"text": "a"}}
    )
    assert "ignoredInputKeys" not in plain.json()["data"]

    strict = settings.model_copy(update={"strict_input": True})
    with TestClient(create_app(strict), base_url=strict.base_url) as strict_client:
        strict_client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        refused = strict_client.post("/api/v1/jobs/createTask", json=body)
        assert refused.status_code == 422
        assert refused.json()["msg"].startswith("input.resolution: Extra inputs are not permitted")


def test_numbers_are_numbers_in_every_state(client: TestClient) -> None:
    """costTime and completeTime are integers (0 until the task finishes), never null."""
    task_id = create(client, {"text": "slow", "sleep_s": 1})
    early = record(client, task_id)
    assert early["state"] != "success"
    assert early["costTime"] == 0 and early["completeTime"] == 0
    listed = client.get("/api/v1/jobs/list").json()["data"]["items"][0]
    assert listed["taskId"] == task_id and listed["costTime"] == 0 and listed["completeTime"] == 0
    done = wait_for(client, task_id)
    assert isinstance(done["costTime"], int) and done["costTime"] > 0
    assert isinstance(done["completeTime"], int) and done["completeTime"] >= done["createTime"]
