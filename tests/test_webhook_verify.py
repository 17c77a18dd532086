"""Receivers verify real callbacks of a running server; tampering and old messages fail."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from genjobs import Client
from genjobs.webhooks import WebhookVerificationError, verify
from tests.receiver import CallbackReceiver, Received
from tests.serverproc import ServerProcess


@pytest.fixture
def received(live_server: ServerProcess) -> Iterator[Received]:
    receiver = CallbackReceiver()
    client = Client(base_url=live_server.base_url, api_key=live_server.api_key)
    client.create_task("genjobs/echo", {"text": "signed"}, callback_url=f"{receiver.url}/hook")
    [request] = receiver.wait_for(1)
    yield request
    receiver.close()


def test_real_callback_verifies_with_both_schemes(
    received: Received, live_server: ServerProcess
) -> None:
    payload = verify(received.body, received.headers, live_server.webhook_key)
    assert payload["data"]["state"] == "success"
    kie_only = {k: v for k, v in received.headers.items() if not k.lower().startswith("webhook-")}
    assert verify(received.body, kie_only, live_server.webhook_key) == payload
    upper = {k.upper(): v for k, v in received.headers.items()}
    assert verify(received.body, upper, live_server.webhook_key) == payload


def test_tampered_or_foreign_callbacks_fail(received: Received, live_server: ServerProcess) -> None:
    tampered = received.body.replace(b"signed", b"forged")
    with pytest.raises(WebhookVerificationError):
        verify(tampered, received.headers, live_server.webhook_key)
    with pytest.raises(WebhookVerificationError):
        verify(received.body, received.headers, "whsec_d3Jvbmcta2V5LXdyb25nLWtleQ==")
    body = json.loads(received.body)
    body["data"]["taskId"] = "0" * 32  # kie's scheme signs the taskId
    kie_only = {k: v for k, v in received.headers.items() if not k.lower().startswith("webhook-")}
    with pytest.raises(WebhookVerificationError):
        verify(json.dumps(body).encode(), kie_only, live_server.webhook_key)
    with pytest.raises(WebhookVerificationError, match="no webhook signature"):
        verify(received.body, {}, live_server.webhook_key)
    time.sleep(1.1)
    with pytest.raises(WebhookVerificationError, match="timestamp"):
        verify(received.body, received.headers, live_server.webhook_key, tolerance_s=1.0)
