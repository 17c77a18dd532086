"""Prometheus metrics, exposed at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

registry = CollectorRegistry(auto_describe=True)

tasks_created = Counter(
    "genjobs_tasks_created_total", "Tasks accepted by createTask.", ["model"], registry=registry
)
tasks_finished = Counter(
    "genjobs_tasks_finished_total",
    "Tasks that reached a final state.",
    ["model", "state", "fail_code"],
    registry=registry,
)
generation_seconds = Histogram(
    "genjobs_generation_seconds",
    "Time from a worker claiming a task to its final state.",
    ["model"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
    registry=registry,
)
callbacks_sent = Counter(
    "genjobs_callback_attempts_total",
    "Callback delivery attempts by outcome.",
    ["kind", "outcome"],
    registry=registry,
)
