"""SQLite WAL checkpoints on a background thread instead of inside a request's commit.

By default SQLite checkpoints in whichever commit pushes the WAL past 1000 pages: that
commit copies the pages into the database file and fsyncs it, taking milliseconds instead
of tens of microseconds, and on the event loop every request waits behind it (measured on
a createTask-shaped transaction: mean commit 85 us with automatic checkpoints, 47 us
without; p99 322 us against 112 us). Connections therefore run with automatic checkpoints
off and this thread checkpoints every second on a connection of its own. PASSIVE mode
never blocks writers or readers, and the sqlite3 module releases the GIL while it works.

A PASSIVE checkpoint running beside a steady stream of commits never catches up with the
last frame, and SQLite starts the WAL over only once it has: the WAL then grew without
end (measured: 560 MB after 8 s of createTask at one connection). So once the WAL holds
more than RESTART_FRAMES, a RESTART checkpoint follows the PASSIVE one: it copies the few
frames written meanwhile while writers wait, and the next commit writes the WAL from its
start again. The event loop's transactions wait on ``write_gate`` (the Database takes it
around each), not in SQLite's busy handler: that one sleeps 1, 2, 5, 10 ms between
tries, which turned a 1 ms checkpoint into a 16 ms stall of every request.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)
INTERVAL_S = 1.0
RESTART_FRAMES = 1000  # SQLite's own automatic checkpoint threshold (pages)


class WalCheckpointer:
    def __init__(self, path: str, write_gate: threading.Lock) -> None:
        self._path = path
        self._write_gate = write_gate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout=5000")
            while not self._stop.wait(INTERVAL_S):
                self._checkpoint(connection)
            self._checkpoint(connection)  # the last connection to close does the rest
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            _busy, frames, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames > RESTART_FRAMES:
                with self._write_gate:
                    connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        except sqlite3.Error as exc:  # e.g. another process is checkpointing: next time
            log.debug("WAL checkpoint skipped: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
