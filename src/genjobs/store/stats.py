"""The admin overview: per-model counts, failure rates and latency percentiles of the
tasks created in the last hour or day, and a time series for the charts."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from genjobs.core.states import ACTIVE_STATES, FailCode, State
from genjobs.store.tables import tasks

MINUTE_MS = 60_000
# window name -> (length, width of one bar of the series)
WINDOWS = {"hour": (60 * MINUTE_MS, 5 * MINUTE_MS), "day": (1440 * MINUTE_MS, 60 * MINUTE_MS)}


@dataclass
class _Tally:
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    active: int = 0

    def add(self, state: str, fail_code: str) -> None:
        self.total += 1
        if state == State.SUCCESS:
            self.succeeded += 1
        elif state == State.FAIL and fail_code == FailCode.CANCELED:
            self.canceled += 1  # the caller's choice, not a failure of the service
        elif state == State.FAIL:
            self.failed += 1
        elif state in ACTIVE_STATES:
            self.active += 1


def overview(conn: Connection, window: str, now: int) -> dict[str, Any]:
    length, bar = WINDOWS[window]
    since = now - length
    query = select(
        tasks.c.model,
        tasks.c.state,
        tasks.c.fail_code,
        tasks.c.create_time,
        tasks.c.start_time,
        tasks.c.complete_time,
        tasks.c.cost_time,
    ).where(tasks.c.create_time >= since)  # ix_tasks_created
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    latency: dict[str, list[int]] = defaultdict(list)
    run: dict[str, list[int]] = defaultdict(list)
    wait: dict[str, list[int]] = defaultdict(list)
    series = [
        {"start": since + index * bar, "succeeded": 0, "failed": 0}
        for index in range(length // bar)
    ]
    for row in conn.execute(query):
        tallies[row.model].add(row.state, row.fail_code)
        if row.start_time is not None:
            wait[row.model].append(row.start_time - row.create_time)
        if row.state == State.SUCCESS:
            latency[row.model].append(row.complete_time - row.create_time)
            run[row.model].append(row.cost_time or 0)
        if row.state in (State.SUCCESS, State.FAIL) and row.fail_code != FailCode.CANCELED:
            index = min((row.create_time - since) // bar, len(series) - 1)
            series[index]["succeeded" if row.state == State.SUCCESS else "failed"] += 1
    models = [
        {
            "model": model,
            "total": tally.total,
            "succeeded": tally.succeeded,
            "failed": tally.failed,
            "canceled": tally.canceled,
            "active": tally.active,
            "failureRate": (
                round(tally.failed / (tally.succeeded + tally.failed), 4)
                if tally.succeeded + tally.failed
                else None
            ),
            "latencyMs": percentiles(latency[model]),
            "waitMs": percentiles(wait[model]),
            "runMs": percentiles(run[model]),
        }
        for model, tally in sorted(tallies.items())
    ]
    return {"window": window, "since": since, "until": now, "models": models, "series": series}


def percentiles(values: Sequence[int]) -> dict[str, int] | None:
    """p50, p90 and p99 by nearest rank (a value that occurred); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return {f"p{p}": ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] for p in (50, 90, 99)}
