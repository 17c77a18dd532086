"""Purges stored files past their retention period."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from sqlalchemy import RowMapping

from genjobs.core.clock import now_ms
from genjobs.files.storage import Storage
from genjobs.store import files
from genjobs.store.database import Database

log = logging.getLogger("genjobs.retention")
PURGE_EVERY_S = 3600.0


def _delete_all(storage: Storage, rows: list[RowMapping]) -> None:
    for row in rows:
        storage.delete(row["kind"], row["token"])


async def purge_expired(db: Database, storage: Storage) -> int:
    purged = 0
    while rows := await db.run(partial(files.take_expired, now=now_ms())):
        # In a thread: deleting from an object store is a network call per file.
        await asyncio.to_thread(_delete_all, storage, rows)
        purged += len(rows)
    if purged:
        log.info("purged %d expired files", purged)
    return purged


async def purge_forever(db: Database, storage: Storage) -> None:
    while True:
        try:
            await purge_expired(db, storage)
        except Exception:
            log.exception("purging expired files failed")
        await asyncio.sleep(PURGE_EVERY_S)
