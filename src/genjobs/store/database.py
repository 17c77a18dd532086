"""The engine, its SQLite tuning, and how async code runs a transaction.

Store functions are plain synchronous SQLAlchemy Core code taking a ``Connection``.
``Database.run`` runs one in a transaction: on SQLite inline on the event loop (a local
WAL database answers in microseconds and only this process writes, so a thread hop would
cost more than the query), on PostgreSQL in a worker thread so network round trips never
block the loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Select, create_engine, event
from sqlalchemy.engine import Engine

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"


def _tune_sqlite(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=8, max_overflow=8)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(url, pool_size=16, max_overflow=16, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class PreparedRead:
    """A SELECT compiled once per dialect and run on a pooled DBAPI connection.

    Used for the hottest read (recordInfo polling): SQLAlchemy's per-execution machinery
    (transaction, compilation cache lookup, result processing) costs about 70 us there
    against 20 us for the query itself, measured on SQLite. Only for plain column types
    (str, int, float) whose driver values need no conversion.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, list[str] | None]] = {}

    def _sql(self, engine: Engine) -> tuple[str, list[str] | None]:
        name = engine.dialect.name
        if name not in self._compiled:
            compiled = self._statement.compile(dialect=engine.dialect)
            order = list(compiled.positiontup) if compiled.positiontup else None
            self._compiled[name] = (str(compiled), order)
        return self._compiled[name]

    def fetch_one(self, engine: Engine, **params: Any) -> dict[str, Any] | None:
        connection = engine.raw_connection()
        try:
            return self.fetch_one_on(connection, engine, **params)
        finally:
            connection.rollback()  # end the read transaction: later reads see new commits
            connection.close()

    def fetch_one_on(self, connection: Any, engine: Engine, **params: Any) -> dict[str, Any] | None:
        sql, order = self._sql(engine)
        cursor = connection.cursor()
        cursor.execute(sql, [params[name] for name in order] if order else params)
        row = cursor.fetchone()
        columns = [column[0] for column in cursor.description or ()]
        cursor.close()
        return None if row is None else dict(zip(columns, row, strict=True))


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sqlite_reader: sqlite3.Connection | None = None

    def _reader(self) -> sqlite3.Connection:
        """One autocommit connection for prepared reads on the event loop thread: every
        SELECT sees the latest commit, with no pool checkout or transaction around it."""
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
            return self.run_sync(fn)
        return await anyio.to_thread.run_sync(self.run_sync, fn)

    async def read_one(self, query: PreparedRead, **params: Any) -> dict[str, Any] | None:
        if self.is_sqlite:
            return query.fetch_one_on(self._reader(), self.engine, **params)
        return await anyio.to_thread.run_sync(partial(query.fetch_one, self.engine, **params))

    def dispose(self) -> None:
        if self._sqlite_reader is not None:
            self._sqlite_reader.close()
            self._sqlite_reader = None
        self.engine.dispose()
