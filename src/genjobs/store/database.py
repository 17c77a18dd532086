"""The engine, its SQLite tuning, and how async code runs a transaction.

Store functions are plain synchronous SQLAlchemy Core code taking a ``Connection``.
``Database.run`` runs one in a transaction: on SQLite inline on the event loop (a local
WAL database answers in microseconds and only this process writes, so a thread hop would
cost more than the query) on one connection kept for the loop, on PostgreSQL in a worker
thread so network round trips never block the loop.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from genjobs.store.checkpoint import WalCheckpointer
from genjobs.store.prepared import Prepared

T = TypeVar("T")
MEMORY_URL = "sqlite://"  # a private in-memory database (backends.memory)
MIGRATIONS = Path(__file__).parent / "migrations"


def _tune_sqlite(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # a WalCheckpointer thread does it
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url == MEMORY_URL:  # one connection, or every checkout would see a database of its own
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=8, max_overflow=8)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_size=16, max_overflow=16, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite alters a table by rebuilding it, and dropping the old table would fail
            # on (or cascade through) the rows that reference it. As SQLite's documentation
            # advises, foreign keys are off during the migration and checked after it.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.in_memory = url == MEMORY_URL
        self._sqlite_reader: sqlite3.Connection | None = None
        self._loop_connection: Connection | None = None
        self._loop_thread: int | None = None
        # Held around the event loop's transactions, and by the checkpointer while it
        # starts the WAL over: the loop then waits for it precisely (see store.checkpoint).
        self._write_gate = threading.Lock()
        self._checkpointer = (
            WalCheckpointer(self.engine.url.database or "", self._write_gate)
            if self.is_sqlite and not self.in_memory
            else None
        )

    def _reader(self) -> sqlite3.Connection:
        """One autocommit connection for prepared reads on the event loop thread: every
        SELECT sees the latest commit, with no pool checkout or transaction around it."""
        if self._sqlite_reader is None and self.in_memory:  # the one connection there is
            self._sqlite_reader = self.engine.raw_connection().driver_connection
        if self._sqlite_reader is None:
            path = self.engine.url.database or ""
            reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            _tune_sqlite(reader, None)
            self._sqlite_reader = reader
        return self._sqlite_reader

    def migrate(self) -> None:
        migrate(self.engine)

    def run_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.begin() as connection:
            return fn(connection)

    async def run(self, fn: Callable[[Connection], T]) -> T:
        if self.is_sqlite:
            return self.run_here(fn)
        return await anyio.to_thread.run_sync(self.run_sync, fn)

    def run_here(self, fn: Callable[[Connection], T]) -> T:
        """SQLite: run ``fn`` in a transaction on this thread, now. One connection stays
        checked out for the event loop's thread (the first caller's): the pool's checkout
        and reset cost about as much as a createTask's whole insert (measured: 89 us a
        transaction through the pool, 59 us on a kept connection). Transactions on the
        loop never interleave (``fn`` cannot await), so one connection is enough; a call
        from another thread takes a pooled connection."""
        if self._loop_thread is None:
            self._loop_thread = threading.get_ident()
        elif self._loop_thread != threading.get_ident():
            return self.run_sync(fn)
        connection = self._loop_connection
        if connection is None or connection.invalidated:  # first use, or lost (disk error)
            if connection is not None:
                connection.close()
            connection = self._loop_connection = self.engine.connect()
        with self._write_gate, connection.begin():
            return fn(connection)

    async def read_one(self, query: Prepared, **params: Any) -> dict[str, Any] | None:
        """One row of a prepared SELECT, outside any transaction: the latest commit."""
        if self.is_sqlite:
            return query.fetch_one_on(self._reader(), self.engine.dialect, **params)
        return await anyio.to_thread.run_sync(partial(self._read_pooled, query, params))

    def _read_pooled(self, query: Prepared, params: dict[str, Any]) -> dict[str, Any] | None:
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            connection = self.engine.raw_connection()
        except dbapi_error as exc:  # as SQLAlchemy's, like every other database error
            raise DBAPIError.instance(None, None, exc, dbapi_error) from exc
        try:
            return query.fetch_one_on(connection, self.engine.dialect, **params)
        finally:
            connection.rollback()  # end the read transaction: later reads see new commits
            connection.close()

    def dispose(self) -> None:
        if self._loop_connection is not None:
            self._loop_connection.close()
            self._loop_connection = None
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._sqlite_reader is not None:
            self._sqlite_reader.close()
            self._sqlite_reader = None
        self.engine.dispose()
