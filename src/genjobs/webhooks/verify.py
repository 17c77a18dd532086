"""Verifying genjobs callbacks in a receiver (any web framework): pass the raw body, the
request headers and the webhook key. Both schemes of DESIGN.md are accepted."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from genjobs.webhooks.signing import kie_signature, standard_signature


class WebhookVerificationError(Exception):
    """The callback is not authentic, or too old."""


def verify(
    body: bytes, headers: Mapping[str, str], key: str, tolerance_s: float = 300.0
) -> dict[str, Any]:
    """The parsed callback body, if it is signed with ``key`` and recent enough.

    Standard Webhooks headers (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)
    are checked when present, else kie's (``X-Webhook-Timestamp``, ``X-Webhook-Signature``).
    kie's scheme signs ``taskId.timestamp`` only, so with it the body's ``data.taskId`` must
    match what was signed. Raises WebhookVerificationError.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        payload: dict[str, Any] = json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("the body is not JSON") from exc
    if "webhook-signature" in lowered:
        timestamp = _timestamp(lowered.get("webhook-timestamp"), tolerance_s)
        expected = standard_signature(key, lowered.get("webhook-id", ""), timestamp, body)
        offered = lowered["webhook-signature"].split()  # several "v1,..." may be sent
        if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
            raise WebhookVerificationError("webhook-signature does not match the body")
        return payload
    if "x-webhook-signature" in lowered:
        timestamp = _timestamp(lowered.get("x-webhook-timestamp"), tolerance_s)
        task_id = str((payload.get("data") or {}).get("taskId", ""))
        expected = kie_signature(key, task_id, timestamp)
        if not hmac.compare_digest(expected, lowered["x-webhook-signature"]):
            raise WebhookVerificationError("X-Webhook-Signature does not match the task")
        return payload
    raise WebhookVerificationError("the request carries no webhook signature")


def _timestamp(value: str | None, tolerance_s: float) -> int:
    try:
        timestamp = int(value or "")
    except ValueError as exc:
        raise WebhookVerificationError("missing or malformed timestamp") from exc
    if abs(time.time() - timestamp) > tolerance_s:
        raise WebhookVerificationError(f"timestamp is more than {tolerance_s:g} s away")
    return timestamp
