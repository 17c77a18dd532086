"""Delivers the callback outbox: POSTs with a timeout, signs when a key is set, retries
with exponential backoff and jitter, and stores every attempt. Pending deliveries live in
the database, so they survive a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from functools import partial

import httpx
from sqlalchemy import RowMapping

from genjobs import metrics
from genjobs.config import Settings
from genjobs.core.clock import now_ms
from genjobs.dispatch.events import TaskEvents
from genjobs.files.fetch import FetchError, async_fetch_client, check_http_url
from genjobs.store import deliveries
from genjobs.store.database import Database
from genjobs.webhooks.signing import signature_headers

log = logging.getLogger("genjobs.webhooks")
MAX_PARALLEL = 16


def retry_delay_s(attempts: int, base_s: float, max_s: float) -> float:
    """Backoff after ``attempts`` failed tries: base * 2^(n-1), capped, with ±50% jitter."""
    delay: float = min(max_s, base_s * 2.0 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.5)


class Deliverer:
    def __init__(self, db: Database, settings: Settings, events: TaskEvents) -> None:
        self._db = db
        self._settings = settings
        self._events = events
        self._limit = asyncio.Semaphore(MAX_PARALLEL)
        self._sending: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        # Callback URLs are the caller's: the same guard as inputs, pinned to the checked
        # addresses, and no redirects followed.
        async with async_fetch_client(
            allow_private=self._settings.allow_private_urls,
            timeout_s=self._settings.callback_timeout_s,
        ) as client:
            while True:
                try:
                    await self._deliver_due(client)
                except Exception:
                    log.exception("callback delivery round failed")
                await self._sleep_until_next()

    async def _sleep_until_next(self) -> None:
        next_at = await self._db.run(deliveries.next_due_at)
        wait_s = 5.0 if next_at is None else max(0.0, min(5.0, (next_at - now_ms()) / 1000))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self._events.outbox.wait()
        self._events.outbox.clear()

    async def _deliver_due(self, client: httpx.AsyncClient) -> None:
        # A claimed delivery is not due again until after the longest possible attempt.
        lease_ms = int((self._settings.callback_timeout_s + 30) * 1000)
        due = await self._db.run(partial(deliveries.claim_due, now=now_ms(), lease_ms=lease_ms))
        for delivery in due:
            sending = asyncio.create_task(self._deliver(client, delivery))
            self._sending.add(sending)
            sending.add_done_callback(self._sending.discard)

    async def _deliver(self, client: httpx.AsyncClient, delivery: RowMapping) -> None:
        async with self._limit:
            try:
                await self._attempt(client, delivery)
            finally:
                self._events.outbox_written()

    async def _attempt(self, client: httpx.AsyncClient, delivery: RowMapping) -> None:
        body = delivery["body"].encode()
        headers = {"Content-Type": "application/json", "User-Agent": "genjobs-webhooks"}
        if self._settings.webhook_key:
            headers |= signature_headers(
                self._settings.webhook_key,
                delivery["task_id"],
                delivery["message_id"],
                int(time.time()),
                body,
            )
        status_code: int | None = None
        error = ""
        started = time.monotonic()
        try:
            check_http_url(delivery["url"])
            response = await client.post(delivery["url"], content=body, headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"the receiver answered HTTP {status_code}"
        except FetchError as exc:  # not http(s), or the client's guard refused the address
            error = f"callback URL refused: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except (httpx.InvalidURL, ValueError) as exc:
            # Not HTTPError: a URL httpx cannot send (a host too long or not IDNA-encodable
            # raises UnicodeError). Recorded like any failure, or the delivery would be
            # claimed again after every lease, forever.
            error = f"callback URL refused: is not a valid URL ({exc})"
        delivered = not error
        attempts = delivery["attempts"] + 1
        retry_at = None
        if not delivered and attempts < delivery["max_attempts"]:
            delay = retry_delay_s(
                attempts,
                self._settings.callback_retry_base_s,
                self._settings.callback_retry_max_s,
            )
            retry_at = now_ms() + int(delay * 1000)
        await self._db.run(
            partial(
                deliveries.record_attempt,
                delivery=delivery,
                status_code=status_code,
                error=error,
                duration_ms=int((time.monotonic() - started) * 1000),
                delivered=delivered,
                retry_at=retry_at,
            )
        )
        metrics.callbacks_sent.labels(delivery["kind"], "ok" if delivered else "error").inc()
        if not delivered:
            log.info("callback %s to %s failed: %s", delivery["message_id"], delivery["url"], error)
