"""Group commit: the small write transactions of concurrent requests share one commit.

On SQLite a commit costs more than the writes in it (tens of microseconds to append every
changed page to the WAL), and createTask is one small transaction per request. Requests
that arrive in the same turn of the event loop are written in one transaction instead,
so under load they share the commit and the index pages it writes. A lone request waits
for nothing but that one turn of the loop.

The contract for a batched function: it may raise only before it writes anything
(checks first, writes last), so its exception is its own answer and the batch goes on.
Any other failure rolls the batch back and every function in it runs again in a
transaction of its own, so one bad request cannot take the others down with it.

A rider (``ride``) is a write with no caller waiting on it (the task backend's hand-off of
new tasks to the queue): it runs in the next batch's transaction, whoever starts it, and
so costs no commit of its own.

SQLite only (backends.sqlite): on PostgreSQL each call is its own transaction (backends.
postgres), as the server already commits concurrent transactions in parallel and groups
their WAL flushes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from genjobs.core.errors import Refused
from genjobs.store.database import Database

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Call(Generic[T]):
    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[Connection], T], future: asyncio.Future[T]) -> None:
        self.fn = fn
        self.future = future


class GroupCommit:
    def __init__(self, db: Database) -> None:
        assert db.is_sqlite, db.engine.url
        self._db = db
        self._pending: list[_Call[Any]] = []
        self._riders: list[Callable[[Connection], None]] = []

    def ride(self, fn: Callable[[Connection], None]) -> None:
        """Run ``fn`` first in the next batch's transaction. ``fn`` must be safe to run
        again or to be lost with a rolled-back batch: nobody learns how it went."""
        self._riders.append(fn)

    async def run(self, fn: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(_Call(fn, future))
        if len(self._pending) == 1:
            # A plain callback, not a task: it runs after the requests that are ready in
            # this turn of the loop have joined the batch. SQLite runs on this thread, so
            # the whole commit happens inside it.
            loop.call_soon(self._commit)
        return await future

    def _commit(self) -> None:
        batch, self._pending = self._pending, []
        riders, self._riders = self._riders, []

        def write(conn: Connection) -> list[tuple[Any, Refused | None]]:
            for rider in riders:
                rider(conn)
            return [_attempt(call, conn) for call in batch]

        try:
            outcomes = self._db.run_here(write)
        except Exception:  # the batch is rolled back: each call on its own
            for rider in riders:
                try:
                    self._db.run_here(rider)
                except Exception:
                    log.exception("a write riding a group commit failed")
            for call in batch:
                self._run_alone(call)
            return
        for call, (result, error) in zip(batch, outcomes, strict=True):
            _settle(call.future, result, error)

    def _run_alone(self, call: _Call[Any]) -> None:
        try:
            result = self._db.run_here(call.fn)
        except Exception as exc:
            _settle(call.future, None, exc)
        else:
            _settle(call.future, result, None)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the request went away (client disconnected)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _attempt(call: _Call[T], conn: Connection) -> tuple[T | None, Refused | None]:
    """Run one call in the batch's transaction. A refusal is its answer (raised before it
    wrote, by contract); anything else aborts the batch."""
    try:
        return call.fn(conn), None
    except Refused as error:
        return None, error
