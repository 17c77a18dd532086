"""Callbacks to a real receiver on loopback: kie's bodies and both signatures, retries with
every attempt stored, and progress events."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from genjobs.config import Settings
from tests.helpers import create, wait_for
from tests.receiver import CallbackReceiver

WEBHOOK_KEY = "callback-secret"


@pytest.fixture
def signed_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_key": WEBHOOK_KEY})


@pytest.fixture
def signed_client(signed_settings: Settings) -> Iterator[TestClient]:
    from genjobs.api.app import create_app

    with TestClient(create_app(signed_settings), base_url=signed_settings.base_url) as client:
        client.headers["Authorization"] = "Bearer gj_test_admin_key"
        yield client


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver()
    yield server
    server.close()


def test_success_and_failure_callbacks_are_kie_shaped_and_signed(
    signed_client: TestClient, receiver: CallbackReceiver
) -> None:
    ok_id = create(signed_client, {"text": "done"}, callBackUrl=f"{receiver.url}/ok")
    bad_id = create(signed_client, {"text": "x", "fail": "boom"}, callBackUrl=f"{receiver.url}/bad")
    [ok] = receiver.wait_for(1, path="/ok")
    [bad] = receiver.wait_for(1, path="/bad")

    body = ok.json()
    assert body["code"] == 200 and body["data"]["taskId"] == ok_id
    assert body["data"]["state"] == "success"
    assert body["data"]["resultJson"] == '{"resultObject": {"text": "done"}}'
    assert body["data"]["consumeCredits"] == 1 and body["data"]["remainedCredits"] > 0
    failed = bad.json()
    assert failed["code"] == 501 and failed["data"]["failCode"] == "boom"
    assert failed["data"]["taskId"] == bad_id and failed["data"]["consumeCredits"] == 0
    # One type per field in every callback: credits are floats, times integers.
    for sent in (body, failed):
        assert isinstance(sent["data"]["consumeCredits"], float)
        assert isinstance(sent["data"]["remainedCredits"], float)
        assert isinstance(sent["data"]["costTime"], int)
        assert isinstance(sent["data"]["completeTime"], int)

    # kie's scheme: base64(HMAC-SHA256(key, taskId + "." + timestamp)), computed here by hand.
    timestamp = ok.headers["X-Webhook-Timestamp"]
    expected = hmac.new(WEBHOOK_KEY.encode(), f"{ok_id}.{timestamp}".encode(), hashlib.sha256)
    assert ok.headers["X-Webhook-Signature"] == base64.b64encode(expected.digest()).decode()
    # Standard Webhooks: v1,base64(HMAC-SHA256(key, id.timestamp.body)).
    signed = f"{ok.headers['webhook-id']}.{ok.headers['webhook-timestamp']}.".encode() + ok.body
    standard = hmac.new(WEBHOOK_KEY.encode(), signed, hashlib.sha256).digest()
    assert ok.headers["webhook-signature"] == "v1," + base64.b64encode(standard).decode()


def test_failed_deliveries_are_retried_and_every_attempt_is_visible(
    client: TestClient, settings: Settings
) -> None:
    receiver = CallbackReceiver(statuses=[500, 503])
    try:
        task_id = create(client, {"text": "retry me"}, callBackUrl=f"{receiver.url}/cb")
        receiver.wait_for(3)
        wait_for(client, task_id)
        for _ in range(100):
            deliveries = client.get("/api/v1/jobs/callbacks", params={"taskId": task_id}).json()
            if deliveries["data"] and deliveries["data"][0]["status"] == "delivered":
                break
        [delivery] = deliveries["data"]
        assert delivery["status"] == "delivered" and delivery["kind"] == "final"
        codes = [attempt["statusCode"] for attempt in delivery["attempts"]]
        assert codes == [500, 503, 200]
        assert "HTTP 500" in delivery["attempts"][0]["error"]
        times = [attempt["attemptedAt"] for attempt in delivery["attempts"]]
        assert times == sorted(times)
    finally:
        receiver.close()


def test_progress_events_reach_the_progress_callback(
    client: TestClient, receiver: CallbackReceiver
) -> None:
    task_id = create(
        client,
        {"text": "slow", "sleep_s": 2.5},
        progressCallBackUrl=f"{receiver.url}/progress",
        callBackUrl=f"{receiver.url}/final",
    )
    receiver.wait_for(1, path="/final")
    events = [r.json() for r in receiver.wait_for(2, path="/progress")]
    assert all(event["data"]["taskId"] == task_id for event in events)
    values = [event["data"]["progress"] for event in events]
    assert values == sorted(values) and values[0] > 0


def test_callback_to_a_private_address_is_refused_unless_allowed(settings: Settings) -> None:
    from genjobs.api.app import create_app

    strict = settings.model_copy(update={"allow_private_urls": False})
    with TestClient(create_app(strict), base_url=strict.base_url) as client:
        client.headers["Authorization"] = "Bearer gj_test_admin_key"
        for url in ("http://127.0.0.1:9/cb", "http://10.0.0.1/cb", "http://169.254.169.254/x"):
            response = client.post(
                "/api/v1/jobs/createTask",
                json={"model": "genjobs/echo", "input": {"text": "x"}, "callBackUrl": url},
            )
            assert response.status_code == 422
            assert response.json()["msg"].startswith("callBackUrl: host")
