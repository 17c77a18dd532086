"""The endpoints behind the dashboard: who a key is, admin key management, the overview
of the last hour, a task's timeline and the live change feed; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY
from tests.helpers import create, wait_for
from tests.serverproc import ServerProcess


def data(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def message(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    text: str = response.json()["msg"]
    return text


def new_key(client: Any, **body: Any) -> dict[str, Any]:
    created: dict[str, Any] = data(
        client.post("/api/v1/admin/keys", json={"name": "alice", "credits": 10} | body)
    )
    return created


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_account_tells_a_key_who_it_is(client: TestClient) -> None:
    admin = data(client.get("/api/v1/account"))
    assert admin["isAdmin"] is True and admin["keyId"].startswith("key_")
    alice = new_key(client, name="alice", credits=12.5)
    assert data(client.get("/api/v1/account", headers=bearer(alice["key"]))) == {
        "keyId": alice["keyId"],
        "name": "alice",
        "isAdmin": False,
        "credits": 12.5,
    }
    assert message(client.get("/api/v1/account", headers=bearer("gj_nope")), 401)


def test_admin_manages_keys(client: TestClient) -> None:
    alice = new_key(client, name="alice", credits=3)
    assert alice["key"].startswith("gj_") and alice["revokedAt"] is None
    listed = data(client.get("/api/v1/admin/keys"))
    assert alice["keyId"] in [k["keyId"] for k in listed]
    assert all("key" not in k and "key_hash" not in k for k in listed)  # shown once only

    # The new key works, and its balance is what the admin set.
    as_alice = bearer(alice["key"])
    assert data(client.get("/api/v1/chat/credit", headers=as_alice)) == 3.0
    updated = data(
        client.post("/api/v1/admin/keys/credits", json={"keyId": alice["keyId"], "credits": 7})
    )
    assert updated["credits"] == 7.0
    assert data(client.get("/api/v1/chat/credit", headers=as_alice)) == 7.0

    # A user key is not an admin key: every admin endpoint answers 401.
    for method, path, body in (
        ("GET", "/api/v1/admin/keys", None),
        ("POST", "/api/v1/admin/keys", {"credits": 1}),
        ("POST", "/api/v1/admin/keys/credits", {"keyId": alice["keyId"], "credits": 1e6}),
        ("POST", "/api/v1/admin/keys/revoke", {"keyId": alice["keyId"]}),
        ("GET", "/api/v1/admin/stats", None),
    ):
        refused = client.request(method, path, json=body, headers=as_alice)
        assert message(refused, 401) == "this endpoint needs an admin key"
    assert data(client.get("/api/v1/chat/credit", headers=as_alice)) == 7.0

    # Bad input names the field; unknown keys are 404; an admin cannot lock itself out.
    assert message(client.post("/api/v1/admin/keys", json={"credits": -1}), 422).startswith(
        "credits:"
    )
    unknown = {"keyId": "key_0000000000000000"}
    assert "key not found" in message(client.post("/api/v1/admin/keys/revoke", json=unknown), 404)
    assert message(client.post("/api/v1/admin/keys/credits", json=unknown | {"credits": 1}), 404)
    me = data(client.get("/api/v1/account"))["keyId"]
    assert message(client.post("/api/v1/admin/keys/revoke", json={"keyId": me}), 422).startswith(
        "keyId: is the key making this request"
    )

    # Revoked: the key stops working (bob's was never used, so no cached identity).
    bob = new_key(client, name="bob")
    revoked = data(client.post("/api/v1/admin/keys/revoke", json={"keyId": bob["keyId"]}))
    assert revoked["revokedAt"] is not None
    assert message(client.get("/api/v1/account", headers=bearer(bob["key"])), 401)
    again = data(client.post("/api/v1/admin/keys/revoke", json={"keyId": bob["keyId"]}))
    assert again["revokedAt"] == revoked["revokedAt"]


def test_overview_counts_failures_and_latencies(client: TestClient) -> None:
    done = [create(client, {"text": f"ok {i}", "sleep_s": 0.1 * i}) for i in range(3)]
    done.append(create(client, {"text": "no", "fail": "broken"}))
    running = create(client, {"text": "long", "sleep_s": 30})
    for task_id in done:
        wait_for(client, task_id)
    wait_for(client, running, states=("generating",))
    canceled = create(client, {"text": "never", "sleep_s": 30})
    data(client.post("/api/v1/jobs/cancel", json={"taskId": canceled}))
    wait_for(client, canceled)  # at once if queued; a started run stops within a second

    overview = data(client.get("/api/v1/admin/stats", params={"window": "hour"}))
    assert overview["window"] == "hour" and overview["until"] - overview["since"] == 3_600_000
    (echo,) = overview["models"]
    assert echo["model"] == "genjobs/echo"
    assert (echo["total"], echo["succeeded"], echo["failed"]) == (6, 3, 1)
    assert (echo["canceled"], echo["active"]) == (1, 1)
    assert echo["failureRate"] == 0.25  # cancellations are not failures
    latency, run = echo["latencyMs"], echo["runMs"]
    assert 0 <= latency["p50"] <= latency["p90"] <= latency["p99"]
    assert run["p99"] >= 200  # the slowest success slept 0.2 s
    assert latency["p99"] >= run["p99"]
    assert len(overview["series"]) == 12
    assert sum(bar["succeeded"] for bar in overview["series"]) == 3
    assert sum(bar["failed"] for bar in overview["series"]) == 1
    data(client.post("/api/v1/jobs/cancel", json={"taskId": running}))

    day = data(client.get("/api/v1/admin/stats", params={"window": "day"}))
    assert len(day["series"]) == 24 and day["models"][0]["total"] == 6
    assert message(client.get("/api/v1/admin/stats", params={"window": "week"}), 422)


def test_timeline_orders_the_moments_of_a_task(client: TestClient) -> None:
    task_id = create(client, {"text": "t", "sleep_s": 0.2})
    record = wait_for(client, task_id)
    timeline = data(client.get("/api/v1/jobs/timeline", params={"taskId": task_id}))
    assert timeline["createTime"] == record["createTime"]
    assert timeline["completeTime"] == record["completeTime"]
    assert (
        timeline["createTime"]
        <= timeline["queueTime"]
        <= timeline["startTime"]
        <= timeline["completeTime"]
    )
    assert timeline["completeTime"] - timeline["startTime"] >= 200
    assert timeline["attempt"] == 1
    alice = new_key(client)
    foreign = client.get(
        "/api/v1/jobs/timeline", params={"taskId": task_id}, headers=bearer(alice["key"])
    )
    assert message(foreign, 404) == f"task not found: {task_id}"


def test_transcript_needs_a_transcript(client: TestClient) -> None:
    task_id = create(client, {"text": "not speech"})
    wait_for(client, task_id)
    refused = client.get("/api/v1/jobs/transcript", params={"taskId": task_id})
    assert message(refused, 404) == f"task {task_id} has no transcript (yet)"
    bad = client.get("/api/v1/jobs/transcript", params={"taskId": task_id, "format": "doc"})
    assert message(bad, 422).startswith("format:")


class FeedReader:
    """Reads a key's change feed on a thread, keeping every `task` event."""

    def __init__(self, server: ServerProcess, key: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.opened = threading.Event()
        self._client = httpx.Client(base_url=server.base_url, headers=bearer(key), timeout=60)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.opened.wait(10), "the change feed did not open"

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/api/v1/jobs/changes") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                self.opened.set()
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        self.events.append(json.loads(line[6:]))
        except httpx.HTTPError:
            pass  # closed by the test

    def states_of(self, task_id: str) -> list[str]:
        return [event["state"] for event in self.events if event["taskId"] == task_id]

    def close(self) -> None:
        self._client.close()


def test_change_feed_shows_a_keys_tasks_as_they_change(live_server: ServerProcess) -> None:
    with httpx.Client(
        base_url=live_server.base_url, headers=bearer(ADMIN_KEY), timeout=30
    ) as admin:
        alice, bob = new_key(admin), new_key(admin, name="bob")
        before = create(admin, {"text": "earlier", "sleep_s": 1}, headers=bearer(alice["key"]))
        feed = FeedReader(live_server, alice["key"])
        try:
            mine = create(admin, {"text": "mine", "sleep_s": 0.5}, headers=bearer(alice["key"]))
            theirs = create(admin, {"text": "theirs"}, headers=bearer(bob["key"]))
            for task_id in (before, mine, theirs):
                wait_for(admin, task_id, timeout_s=30)
            deadline = time.monotonic() + 5  # the feed re-reads at least once a second
            while time.monotonic() < deadline and not (
                feed.states_of(mine)[-1:] == feed.states_of(before)[-1:] == ["success"]
            ):
                time.sleep(0.05)
            assert feed.states_of(mine)[-1] == "success", feed.events
            assert "generating" in feed.states_of(mine), feed.events
            # A task already running when the feed opened is followed to its end too.
            assert feed.states_of(before)[-1] == "success"
            assert feed.states_of(theirs) == []  # bob's task is not alice's business
            final = [e for e in feed.events if e["taskId"] == mine][-1]
            assert json.loads(final["resultJson"]) == {"resultObject": {"text": "mine"}}
        finally:
            feed.close()


def test_method_not_allowed_lists_every_method_of_the_path(client: TestClient) -> None:
    # GET and POST of /api/v1/admin/keys are two routes; Allow must name both.
    refused = client.request("DELETE", "/api/v1/admin/keys")
    assert message(refused, 405) == "method not allowed on this endpoint"
    assert refused.headers["allow"] == "GET, POST"
