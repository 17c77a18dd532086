"""Throughput and latency of the Jobs API on this machine, against the ceiling of the stack.

Starts a real `genjobs serve` (SQLite, embedded workers: tasks created here really run),
the same server as an API node (GENJOBS_WORKERS=false) and a bare FastAPI/uvicorn
endpoint, drives them with wrk (a C load generator, so the client is not the bottleneck)
at 1, 8 and 64 connections, counts the CPU each server process (and its worker
processes) spent per request, and measures echo create-to-success latency with a real
client following the SSE stream.

    .venv/bin/python bench/api.py [--rounds 5] [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.serverproc import ServerProcess, free_port

CONNECTIONS = (1, 8, 64)
KEY = "gj_bench_admin_key"


def cpu_seconds(pid: int) -> tuple[float, float, float]:
    """CPU seconds (user + system) used so far by a process, by its main thread (the
    event loop, which one core bounds) and by its children (the worker processes of a
    genjobs server), from /proc."""

    def used(stat: Path) -> float:
        # Fields after "pid (name)": state is the first, utime the 12th, stime the 13th.
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return (
        used(Path(f"/proc/{pid}/stat")),
        used(Path(f"/proc/{pid}/task/{pid}/stat")),
        sum(used(Path(f"/proc/{child}/stat")) for child in children),
    )


def finished_children_cpu_seconds() -> float:
    """CPU seconds of this script's finished child processes (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    url: str, connections: int, seconds: float, script: Path, pid: int, settle: Callable[[], None]
) -> tuple[float, ...]:
    """(requests/s, p50 ms, p99 ms, then CPU us per request of the server process ``pid``,
    of its main thread, of its worker processes and of wrk, then the share of one core its
    main thread used while wrk ran) of one wrk run; the servers' CPU per request is
    counted until ``settle`` returns (until the tasks created have run)."""
    server_before, loop_before, workers_before = cpu_seconds(pid)
    client_before = finished_children_cpu_seconds()
    started = time.monotonic()
    rps, p50, p99 = wrk(url, connections, seconds, script)
    loop_busy = (cpu_seconds(pid)[1] - loop_before) / (time.monotonic() - started)
    client = finished_children_cpu_seconds() - client_before
    settle()
    server_after, loop_after, workers_after = cpu_seconds(pid)
    per_request = 1e6 / (rps * seconds)
    return (
        rps,
        p50,
        p99,
        (server_after - server_before) * per_request,
        (loop_after - loop_before) * per_request,
        (workers_after - workers_before) * per_request,
        client * per_request,
        loop_busy * 100,
    )


def wrk(url: str, connections: int, seconds: float, script: Path) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of one wrk run."""
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(name: str) -> float:
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, percentile("50"), percentile("99")


def lua(tmp: Path, name: str, method: str, body: str | None = None) -> Path:
    lines = [f'wrk.method = "{method}"', f'wrk.headers["Authorization"] = "Bearer {KEY}"']
    if body is not None:
        lines += [f"wrk.body = '{body}'", 'wrk.headers["Content-Type"] = "application/json"']
    path = tmp / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def echo_latency(base_url: str, runs: int) -> list[float]:
    """ms from sending createTask to reading the success event of the task's SSE stream."""
    latencies = []
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for _ in range(runs):
            started = time.perf_counter()
            task_id = client.post(
                "/api/v1/jobs/createTask",
                json={"model": "genjobs/echo", "input": {"text": "ping"}},
            ).json()["data"]["taskId"]
            with client.stream("GET", "/api/v1/jobs/stream", params={"taskId": task_id}) as events:
                for line in events.iter_lines():
                    if line.startswith("data: ") and json.loads(line[6:])["state"] == "success":
                        break
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def wait_idle(base_url: str) -> None:
    """Let the workers drain the tasks createTask made before measuring the next thing."""
    headers = {"Authorization": f"Bearer {KEY}"}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        text = httpx.get(f"{base_url}/metrics", headers=headers, timeout=60).text
        active = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("genjobs_tasks_active{")
        )
        if active == 0:
            return
        time.sleep(0.5)


ROW_ORDER = ("recordInfo", "bare GET", "createTask", "create(API)", "bare POST")


def row_order(item: tuple[tuple[str, int], object]) -> tuple[int, int]:
    (name, connections), _ = item
    return ROW_ORDER.index(name), connections


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="runs per cell (median kept)")
    parser.add_argument("--echo-runs", type=int, default=100)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/api.py needs wrk (Debian package `wrk`): apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="genjobs-bench-"))
    server = ServerProcess(tmp / "data", api_key=KEY, env={"GENJOBS_WEBHOOK_KEY": ""}).start()
    # The same API with no embedded workers (as an API node of a scale-out deployment):
    # shows createTask's own cost without every created task also running on these cores.
    api_only = ServerProcess(
        tmp / "api-only", api_key=KEY, env={"GENJOBS_WEBHOOK_KEY": "", "GENJOBS_WORKERS": "false"}
    ).start()
    bare_port = free_port()
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(bare_port),
            "--log-level",
            "warning",
        ],
        cwd=Path(__file__).parent,
        env={**os.environ},
    )
    try:
        time.sleep(2)
        headers = {"Authorization": f"Bearer {KEY}"}
        task_id = httpx.post(
            f"{server.base_url}/api/v1/jobs/createTask",
            json={"model": "genjobs/echo", "input": {"text": "bench"}},
            headers=headers,
        ).json()["data"]["taskId"]
        get_script = lua(tmp, "get", "GET")
        create_script = lua(
            tmp, "create", "POST", '{"model":"genjobs/echo","input":{"text":"bench"}}'
        )
        create = "/api/v1/jobs/createTask"
        # Warm up: a burst starts every echo worker process the pool will use (starting
        # one costs about a second of CPU, which would land in the first cell).
        wrk(f"{server.base_url}{create}", 8, 1, create_script)
        wait_idle(server.base_url)
        bare_url = f"http://127.0.0.1:{bare_port}/bare"
        record_url = f"{server.base_url}/api/v1/jobs/recordInfo?taskId={task_id}"
        # Each genjobs cell and its ceiling are measured in turns, `rounds` times, and the
        # medians kept: a loaded moment of this shared machine then hits both sides.
        pairs = (
            ("recordInfo", record_url, server, get_script, "bare GET"),
            ("createTask", f"{server.base_url}{create}", server, create_script, "bare POST"),
            ("create(API)", f"{api_only.base_url}{create}", api_only, create_script, "bare POST"),
        )
        # Let the embedded workers run the tasks just created (their CPU is the cell's),
        # and never measure the next thing while they still do.
        settle = partial(wait_idle, server.base_url)
        cells: dict[tuple[str, int], list[tuple[float, ...]]] = {}
        # "vs bare" is the median of each run's ratio to the bare run right beside it, so
        # a drift of the machine's speed between runs cancels out.
        ratios: dict[tuple[str, int], list[float]] = {}
        for connections in CONNECTIONS:
            for _ in range(args.rounds):
                for name, url, target, script, ceiling_name in pairs:
                    settle()
                    cell = measure(url, connections, args.seconds, script, target.pid, settle)
                    beside = measure(bare_url, connections, args.seconds, script, bare.pid, settle)
                    cells.setdefault((name, connections), []).append(cell)
                    cells.setdefault((ceiling_name, connections), []).append(beside)
                    ratios.setdefault((name, connections), []).append(cell[0] / beside[0])
                    print(f"measured {name} x{connections}", file=sys.stderr)
        rows: list[tuple[str, int, list[float]]] = [
            (name, connections, [statistics.median(figures) for figures in zip(*runs, strict=True)])
            for (name, connections), runs in sorted(cells.items(), key=row_order)
        ]
        wait_idle(server.base_url)
        latencies = echo_latency(server.base_url, args.echo_runs)
    finally:
        server.stop()
        api_only.stop()
        bare.terminate()
        bare.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"genjobs API benchmark ({os.cpu_count()} CPUs, SQLite, wrk -t1, median of "
        f"{args.rounds} runs of {args.seconds:g} s per cell, each beside its bare ceiling)"
    )
    print(
        f"{'endpoint':<12} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8}"
        f" {'server us':>10} {'loop us':>8} {'loop %':>7} {'workers us':>10} {'wrk us':>7}"
    )
    for name, connections, figures in rows:
        rps, p50, p99, server_us, loop_us, workers_us, wrk_us, loop_pct = figures
        paired = ratios.get((name, connections))
        ratio = f"{statistics.median(paired):.2f}" if paired else ""
        workers = f"{workers_us:.0f}" if name == "createTask" else ""
        print(
            f"{name:<12} {connections:>5} {rps:>9.0f} {p50:>8.2f} {p99:>8.2f} {ratio:>8}"
            f" {server_us:>10.0f} {loop_us:>8.0f} {loop_pct:>7.0f}"
            f" {workers:>10} {wrk_us:>7.0f}"
        )
    print("createTask: embedded workers run every created task on the same 2 cores;")
    print("create(API): the same server with GENJOBS_WORKERS=false (tasks stay queued).")
    print("vs bare: median over the runs of req/s / req/s of the bare run beside it.")
    print("server us / loop us / workers us / wrk us: CPU time (user + system) per request")
    print("of the server process / of its main thread (the event loop) / of its worker")
    print("processes (the echo model) / of wrk, counted until the tasks created had run.")
    print("loop %: how much of one core the event loop used while wrk ran.")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"echo create-to-success over {len(latencies)} sequential tasks: "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms"
    )


if __name__ == "__main__":
    main()
