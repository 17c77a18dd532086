"""A per-key sliding-window limit on createTask (in memory, per server process)."""

from __future__ import annotations

import math
import time
from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str) -> float | None:
        """Count one request; None if allowed, else seconds until the next is allowed."""
        if self.limit <= 0:
            return None
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.window_s - now
        hits.append(now)
        return None

    @staticmethod
    def retry_after_header(wait_s: float) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(wait_s)))}
