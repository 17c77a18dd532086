"""The SQLite WAL stays bounded under a steady stream of commits: the background
checkpointer must start it over, not only copy it, or it grows until the disk is full."""

from __future__ import annotations

import time
from pathlib import Path

from genjobs.store import keys
from genjobs.store.checkpoint import INTERVAL_S, RESTART_FRAMES
from genjobs.store.database import Database


def test_wal_is_started_over_while_commits_keep_coming(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'genjobs.db'}")
    try:
        db.migrate()
        key_id = db.run_sync(lambda conn: keys.create_key(conn, name="w", credits=1e9)[0])
        page_size = db.run_sync(lambda conn: conn.exec_driver_sql("PRAGMA page_size").scalar())
        wal = tmp_path / "genjobs.db-wal"
        commits, deadline = 0, time.monotonic() + 3 * INTERVAL_S + 0.5
        while time.monotonic() < deadline:  # never a pause for the checkpointer to use
            db.run_here(lambda conn: keys.debit(conn, key_id, 1.0))
            commits += 1
        # Every commit appends at least one page to the WAL; started over, the file holds
        # about one interval's worth, far less than all of them.
        assert commits > 3 * RESTART_FRAMES
        assert wal.stat().st_size < commits * page_size / 2
    finally:
        db.dispose()
