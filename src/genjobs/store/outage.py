"""Which failures mean the database or the disk is out of service, not a bug.

The API answers these with 455 (database unavailable) or 507 (storage full) instead of a
500, and the runner and deliverer retry them; both recover by themselves once the
database answers again or space is freed.
"""

from __future__ import annotations

import errno
import sqlite3
from enum import Enum

from sqlalchemy import exc as sa_exc

_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full
# The SQLAlchemy errors a lost, refused or exhausted database connection raises.
UNAVAILABLE_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


class Outage(Enum):
    DATABASE_UNAVAILABLE = "database unavailable"
    STORAGE_FULL = "storage full"


def classify(exc: BaseException) -> Outage | None:
    """The outage ``exc`` reports, or None for any other error."""
    if isinstance(exc, OSError):
        return Outage.STORAGE_FULL if exc.errno in _DISK_FULL_ERRNOS else None
    if not isinstance(exc, UNAVAILABLE_ERRORS):
        return None
    cause = getattr(exc, "orig", None)
    if isinstance(cause, sqlite3.Error) and cause.sqlite_errorcode == sqlite3.SQLITE_FULL:
        return Outage.STORAGE_FULL
    if getattr(cause, "sqlstate", None) == _POSTGRES_DISK_FULL:
        return Outage.STORAGE_FULL
    return Outage.DATABASE_UNAVAILABLE
