"""Callback signatures, both ways DESIGN.md names.

kie.ai: ``X-Webhook-Timestamp`` (Unix s) and
``X-Webhook-Signature = base64(HMAC-SHA256(key, taskId + "." + timestamp))``.

Standard Webhooks (standardwebhooks.com): ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature = "v1," + base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body))``,
where a key written ``whsec_<base64>`` is base64-decoded first, as that spec's libraries do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def _key_bytes(key: str) -> bytes:
    return key.encode()


def _standard_secret(key: str) -> bytes:
    if key.startswith("whsec_"):
        return base64.b64decode(key.removeprefix("whsec_"))
    return key.encode()


def kie_signature(key: str, task_id: str, timestamp: int) -> str:
    digest = hmac.new(_key_bytes(key), f"{task_id}.{timestamp}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def standard_signature(key: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_secret(key), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    key: str, task_id: str, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """All headers of one signed callback request."""
    return {
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": kie_signature(key, task_id, timestamp),
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(key, message_id, timestamp, body),
    }
