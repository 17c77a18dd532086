"""Statements compiled once per dialect and run straight on the DBAPI connection.

For the hottest paths only (recordInfo's read, createTask's debit and insert, the
backend's hand-off, the runner's claim): there SQLAlchemy's per-execution machinery
(compilation cache lookup, parameter processing, result set-up) costs more than the
query itself, about 20-40 us a statement against 5-20 us on SQLite. Only for plain
column types (str, int, float, None) whose values need no conversion by SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

Row = dict[str, Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: list[str] | None  # parameter names in order, for positional paramstyles
    fixed: dict[str, Any]  # parameters whose values are part of the statement


class Prepared:
    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        # Rows (of a SELECT, or an UPDATE ... RETURNING) come back as dicts keyed by the
        # statement's column labels.
        columns = getattr(statement, "exported_columns", None)
        self._labels = tuple(columns.keys()) if columns is not None else ()
        self._compiled: dict[str, _Compiled] = {}

    def _sql(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            # render_postcompile: an IN list of fixed values becomes plain parameters.
            statement = self._statement.compile(  # type: ignore[attr-defined]
                dialect=dialect, compile_kwargs={"render_postcompile": True}
            )
            order = list(statement.positiontup) if statement.positiontup else None
            # Values written into the statement (state == "waiting") become bound
            # parameters too: they are sent with every execution.
            fixed = {
                name: value.value if isinstance(value, Enum) else value
                for name, value in statement.params.items()
                if value is not None
            }
            compiled = self._compiled[dialect.name] = _Compiled(str(statement), order, fixed)
        return compiled

    def _bind(self, compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        values = {**compiled.fixed, **params} if compiled.fixed else params
        return [values[name] for name in compiled.order] if compiled.order else values

    @contextmanager
    def _cursor(self, dbapi_connection: Any, dialect: Dialect) -> Iterator[tuple[Any, _Compiled]]:
        """A cursor and the compiled statement; driver errors come out as SQLAlchemy's
        (IntegrityError, OperationalError, ...), so callers handle one family of
        exceptions whichever way a statement ran."""
        compiled = self._sql(dialect)
        cursor = dbapi_connection.cursor()
        try:
            yield cursor, compiled
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(compiled.sql, None, exc, dialect.loaded_dbapi.Error) from exc
        finally:
            cursor.close()

    def fetch_one_on(self, dbapi_connection: Any, dialect: Dialect, **params: Any) -> Row | None:
        """The first row, on a DBAPI connection (its transaction is the caller's)."""
        with self._cursor(dbapi_connection, dialect) as (cursor, compiled):
            cursor.execute(compiled.sql, self._bind(compiled, params))
            row = cursor.fetchone()
        return None if row is None else dict(zip(self._labels, row, strict=True))

    def fetch_one(self, conn: Connection, **params: Any) -> Row | None:
        """The first row, in ``conn``'s transaction."""
        return self.fetch_one_on(_dbapi(conn), conn.dialect, **params)

    def fetch_all(self, conn: Connection, **params: Any) -> list[Row]:
        """Every row, in ``conn``'s transaction."""
        with self._cursor(_dbapi(conn), conn.dialect) as (cursor, compiled):
            cursor.execute(compiled.sql, self._bind(compiled, params))
            rows = cursor.fetchall()
        return [dict(zip(self._labels, row, strict=True)) for row in rows]

    def execute(self, conn: Connection, **params: Any) -> int:
        """Run in ``conn``'s transaction; the number of rows it changed."""
        with self._cursor(_dbapi(conn), conn.dialect) as (cursor, compiled):
            cursor.execute(compiled.sql, self._bind(compiled, params))
            return int(cursor.rowcount)

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per parameter set, in ``conn``'s transaction."""
        with self._cursor(_dbapi(conn), conn.dialect) as (cursor, compiled):
            cursor.executemany(compiled.sql, [self._bind(compiled, row) for row in rows])


def _dbapi(conn: Connection) -> Any:
    """The driver connection under ``conn`` (in its transaction)."""
    return conn.connection.dbapi_connection
