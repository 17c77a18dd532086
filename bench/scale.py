"""Scale-out on PostgreSQL: 2 API nodes (`serve --no-workers`) and 1-3 `genjobs worker`
processes, each with its own data dir, sharing one database and one object store (moto's
S3 server, a stand-in for S3), on this one machine.

1. Throughput: `--tasks` echo tasks (each sleeping `--sleep-s`, so a worker's 4 echo
   processes bound it, not the CPU) through both API nodes, with 1, 2 and 3 workers.
2. Create-to-start latency of an idle remote worker: one task at a time, from createTask
   on an API node to the worker's start (the task's timeline), woken by PostgreSQL
   LISTEN/NOTIFY, against the same with notifications unheard (the worker polls).
3. Chaos: `--chaos-tasks` tasks (echo, and a few storyboard videos) while a random
   worker is killed with SIGKILL (with its model processes) every `--kill-every-s` and
   replaced; then it counts lost, stuck, run twice to success, and checks every result
   is readable from either API node.

    .venv/bin/python bench/scale.py [--tasks 240] [--chaos-tasks 500] [--kill-every-s 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.cluster import Cluster, fresh_postgres, object_store
from tests.receiver import CallbackReceiver

FINAL = ("success", "fail")
STORYBOARD = {"n_frames": "10", "shots": [{"Scene": "A harbour at dawn", "duration": 2}]}
ECHO = ["genjobs/echo"]


def clients(cluster: Cluster) -> list[httpx.Client]:
    return [
        httpx.Client(base_url=node.base_url, headers=node.headers, timeout=60)
        for node in cluster.api
    ]


def create(api: httpx.Client, model: str, payload: dict[str, Any], **body: Any) -> str:
    answer = api.post("/api/v1/jobs/createTask", json={"model": model, "input": payload, **body})
    answer.raise_for_status()
    task_id: str = answer.json()["data"]["taskId"]
    return task_id


def records(api: httpx.Client, task_ids: list[str]) -> dict[str, dict[str, Any]]:
    return {
        task_id: api.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}).json()
        for task_id in task_ids
    }


def wait_all(api: httpx.Client, task_ids: list[str], timeout_s: float) -> dict[str, Any]:
    """The final records (or the last seen, for tasks not final by ``timeout_s``)."""
    latest: dict[str, Any] = {}
    pending = list(task_ids)
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for task_id, answer in records(api, pending).items():
            latest[task_id] = answer.get("data") or answer
        pending = [t for t in pending if latest[t].get("state") not in FINAL]
        if pending:
            time.sleep(0.2)
    return latest


def throughput(cluster: Cluster, workers: int, tasks: int, sleep_s: float) -> float:
    """Tasks per second, first createTime to last completeTime (server clocks)."""
    while len([w for w in cluster.workers if w.process and w.process.poll() is None]) < workers:
        cluster.add_worker(ECHO)
    nodes = clients(cluster)
    ids = [
        create(nodes[i % 2], "genjobs/echo", {"text": f"t{i}", "sleep_s": sleep_s})
        for i in range(tasks)
    ]
    done = wait_all(nodes[0], ids, timeout_s=600)
    for node in nodes:
        node.close()
    assert all(done[t]["state"] == "success" for t in ids), "a throughput task failed"
    first = min(done[t]["createTime"] for t in ids)
    last = max(done[t]["completeTime"] for t in ids)
    return tasks / ((last - first) / 1000)


def start_latencies(cluster: Cluster, samples: int) -> list[int]:
    """ms from createTask to the start of the run, one idle worker's task at a time."""
    nodes = clients(cluster)
    latencies = []
    for index in range(samples):
        task_id = create(nodes[index % 2], "genjobs/echo", {"text": "ping"})
        wait_all(nodes[0], [task_id], timeout_s=60)
        timeline = nodes[0].get("/api/v1/jobs/timeline", params={"taskId": task_id}).json()
        latencies.append(timeline["data"]["startTime"] - timeline["data"]["createTime"])
        time.sleep(0.3)  # the worker idles again, as a remote worker between tasks would
    for node in nodes:
        node.close()
    return latencies


def chaos(cluster: Cluster, tasks: int, kill_every_s: float, rng: random.Random) -> dict[str, Any]:
    receiver = CallbackReceiver()
    nodes = clients(cluster)
    ids: list[str] = []
    videos: list[str] = []
    kills = 0
    last_kill = time.monotonic()
    for index in range(tasks):
        node = nodes[index % 2]
        if index % 50 == 25:
            videos.append(
                create(node, "sora-2-pro-storyboard", STORYBOARD, callBackUrl=receiver.url)
            )
        else:
            echo = {"text": f"c{index}", "sleep_s": round(rng.uniform(0, 1), 2)}
            ids.append(create(node, "genjobs/echo", echo, callBackUrl=receiver.url))
        time.sleep(0.02)
        if time.monotonic() - last_kill > kill_every_s:
            kills += _kill_and_replace(cluster, rng)
            last_kill = time.monotonic()
    every = ids + videos
    # Keep killing while the queue drains (for at most a minute), then give the
    # survivors 2 minutes.
    drain_until = time.monotonic() + 60
    while time.monotonic() < drain_until and any(
        answer["data"]["state"] not in FINAL for answer in records(nodes[0], every).values()
    ):
        time.sleep(kill_every_s)
        kills += _kill_and_replace(cluster, rng)
    done = wait_all(nodes[1], every, timeout_s=120)
    lost = sum(
        nodes[0].get("/api/v1/jobs/recordInfo", params={"taskId": t}).json()["code"] != 200
        for t in every
    )
    stuck = sum(done[t].get("state") not in FINAL for t in every)
    readable_from_both = 0
    rendered = [t for t in videos if done[t].get("state") == "success"]
    for task_id in rendered:
        link = httpx.Response(200, content=done[task_id]["resultJson"]).json()["resultUrls"][0]
        parts = urlsplit(link)
        bodies = [
            httpx.get(f"{node.base_url}{parts.path}?{parts.query}", timeout=60)
            for node in cluster.api
        ]
        readable_from_both += all(b.status_code == 200 for b in bodies) and (
            bodies[0].content == bodies[1].content
        )
    # A task that succeeded twice would have two final deliveries (two webhook-ids).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_called_back(receiver)) < len(every):
        time.sleep(0.5)
    webhook_ids: dict[str, set[str]] = {}
    for callback in receiver.requests:
        task_id = callback.json()["data"]["taskId"]
        webhook_ids.setdefault(task_id, set()).add(callback.headers["webhook-id"])
    receiver.close()
    for node in nodes:
        node.close()
    return {
        "tasks": len(every),
        "kills": kills,
        "succeeded": sum(done[t].get("state") == "success" for t in every),
        "failed": Counter(
            f"{done[t]['failCode']} ({'video' if t in videos else 'echo'})"
            for t in every
            if done[t].get("state") == "fail"
        ),
        "lost": lost,
        "stuck": stuck,
        "run twice to success": sum(len(ids) > 1 for ids in webhook_ids.values()),
        "videos rendered": f"{len(rendered)} of {len(videos)}",
        "rendered videos readable from both API nodes": readable_from_both,
    }


def _called_back(receiver: CallbackReceiver) -> set[str]:
    return {callback.json()["data"]["taskId"] for callback in receiver.requests}


def _kill_and_replace(cluster: Cluster, rng: random.Random) -> int:
    alive = [w for w in cluster.workers if w.process and w.process.poll() is None]
    victim = rng.choice(alive)
    victim.kill()
    cluster.add_worker(victim.models)
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=240)
    parser.add_argument("--sleep-s", type=float, default=0.5)
    parser.add_argument("--latency-samples", type=int, default=30)
    parser.add_argument("--chaos-tasks", type=int, default=500)
    parser.add_argument("--kill-every-s", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="genjobs-scale-") as root:
        with fresh_postgres() as database_url, object_store() as storage_env:
            cluster = Cluster(Path(root) / "throughput", database_url, storage_env).start()
            try:
                print("throughput, echo tasks sleeping", args.sleep_s, "s (4 processes/worker):")
                for workers in (1, 2, 3):
                    rate = throughput(cluster, workers, args.tasks, args.sleep_s)
                    print(f"  {workers} worker(s): {rate:6.1f} tasks/s", flush=True)
                print("create-to-start latency of an idle remote worker, ms:")
                latency = start_latencies(cluster, args.latency_samples)
                print(f"  LISTEN/NOTIFY: {_summary(latency)}", flush=True)
            finally:
                cluster.stop()

        # The baseline: the same, with GENJOBS_LISTEN_FOR_WORK off (as behind a pooler
        # that cannot LISTEN): the worker finds new work by polling, once a second.
        with fresh_postgres() as database_url, object_store() as storage_env:
            cluster = Cluster(
                Path(root) / "polling",
                database_url,
                storage_env,
                extra_env={"GENJOBS_LISTEN_FOR_WORK": "false"},
            ).start()
            try:
                cluster.add_worker(ECHO)
                polled = start_latencies(cluster, args.latency_samples)
                print(f"  polling (baseline): {_summary(polled)}", flush=True)
            finally:
                cluster.stop()

        with fresh_postgres() as database_url, object_store() as storage_env:
            cluster = Cluster(Path(root) / "chaos", database_url, storage_env).start()
            try:
                for models in (ECHO, ECHO, [*ECHO, "sora-2-pro-storyboard"]):
                    cluster.add_worker(models)
                print(
                    f"chaos: {args.chaos_tasks} tasks, 3 workers (one also renders storyboards),"
                    f" SIGKILL of a random worker every {args.kill_every_s:g} s:"
                )
                for name, value in chaos(cluster, args.chaos_tasks, args.kill_every_s, rng).items():
                    print(f"  {name}: {dict(value) if isinstance(value, Counter) else value}")
            finally:
                cluster.stop()


def _summary(values: list[int]) -> str:
    ordered = sorted(values)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    return f"p50 {statistics.median(ordered):.0f}, p90 {p90}, max {ordered[-1]} (n={len(values)})"


if __name__ == "__main__":
    main()
