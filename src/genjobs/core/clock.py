"""Unix time in milliseconds, the unit of every time field on the wire."""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
