"""Wake-ups across machines on PostgreSQL. A trigger (migration 0004) NOTIFYs
``genjobs_work`` with the model's name whenever a task enters the queue, in the queueing
transaction; every process that runs workers LISTENs on its own connection and wakes its
claim loop at once, so a task created on an API node starts on an idle remote worker in
milliseconds rather than on the worker's next poll.

Notifications are only wake-ups, never data: one missed while the listener reconnects
costs at most the claim loop's fallback poll."""

from __future__ import annotations

import asyncio
import logging

import psycopg
from sqlalchemy.engine import make_url

from genjobs.dispatch.events import TaskEvents

CHANNEL = "genjobs_work"
RECONNECT_S = 1.0
log = logging.getLogger(__name__)


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://...`` as libpq understands it."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def listen_for_work(sqlalchemy_url: str, events: TaskEvents) -> None:
    """Run until cancelled: each notification tells ``events`` work arrived for a model."""
    conninfo = libpq_conninfo(sqlalchemy_url)
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            async with conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                events.work_arrived(None)  # whatever was queued while nobody listened
                async for notification in conn.notifies():
                    events.work_arrived({notification.payload})
        except (psycopg.Error, OSError) as exc:
            log.warning("listening for work failed (%s); retrying in %g s", exc, RECONNECT_S)
            await asyncio.sleep(RECONNECT_S)
