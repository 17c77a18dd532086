"""Callback signing (server side) and verification (for receivers)."""

from genjobs.webhooks.verify import WebhookVerificationError, verify

__all__ = ["WebhookVerificationError", "verify"]
