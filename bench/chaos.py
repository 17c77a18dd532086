"""Fault injection: SIGKILL the server at random moments under load and count what is lost.

For each database (SQLite, then PostgreSQL) the script runs `--cycles` cycles. A cycle
starts `genjobs serve`, submits `--tasks` mixed echo tasks over about 3 s (instant, short,
long, failing, crashing their worker, 500 KB results), each with a callback, and SIGKILLs
the server process alone (not its process group) at a random moment, during or after
the submissions. The worker processes it leaves must exit by themselves: any still
alive 10 s later is an orphan. The callback receiver changes behaviour every cycle: it answers
200, is down (connection refused), is slow (answers after 30 s, beyond genjobs' 15 s
timeout), answers 500, answers 302.

After the last cycle the server starts once more with a healthy receiver, and the script
waits up to 2 minutes for every stored task to finish (those still unfinished are
stuck) and then for every finished task's callback. It prints figures, not pass/fail:

    .venv/bin/python bench/chaos.py [--cycles 20] [--tasks 50] [--databases sqlite,postgresql]
                                    [--seed 1] [--json]

- created: createTask answered 200; "unanswered" requests got no answer (the kill);
  the server may still have stored them, and "stored" counts every task in the database.
- lost: a taskId answered by createTask that recordInfo does not know.
- duplicated callbacks: a task whose final callback was answered 2xx more than once
  (delivery is at least once: a kill between the POST and recording it, or a receiver
  slower than the timeout, sends it again with the same webhook-id).
- lost callbacks: a finished task whose callback was never answered 2xx by the receiver.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psutil

from genjobs.webhooks.verify import WebhookVerificationError, verify

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.cluster import fresh_postgres
from tests.serverproc import ServerProcess, free_port

KEY = "gj_chaos_admin_key"
WEBHOOK_KEY = "whsec_Y2hhb3MtYmVuY2gtd2ViaG9vay1rZXktMDEyMzQ1Njc4OQ=="
FINAL_STATES = ("success", "fail")
# One behaviour per cycle, healthy in between, so every bad phase is shorter than
# genjobs' retry window (8 attempts, 0.5 s doubling: about 64 s).
RECEIVER_MODES = ("ok", "down", "ok", "slow", "ok", "500", "ok", "302")
SLOW_ANSWER_S = 30.0
# A cycle's tasks arrive over about 3 s (clients do not all come at once), and the kill
# comes 0.2-6 s in: about half the kills land while createTask requests are in flight.
SUBMIT_GAP_S = 0.06
ORPHAN_GRACE_S = 10.0
ECHO_PROCESSES = 8


class ChaosReceiver:
    """A callback receiver on a fixed port whose behaviour can be switched: ``ok``,
    ``down`` (not listening), ``slow``, ``500`` or ``302``. Keeps, per taskId, the
    webhook-ids it answered 2xx, and counts callbacks whose signature does not verify."""

    def __init__(self, webhook_key: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/callback"
        self.webhook_key = webhook_key
        self.acknowledged: dict[str, list[str]] = defaultdict(list)
        self.requests = 0
        self.bad_signatures = 0
        self.mode = "ok"
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._listen()

    def set_mode(self, mode: str) -> None:
        if mode == "down" and self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        elif mode != "down" and self._server is None:
            self._listen()
        self.mode = mode

    def close(self) -> None:
        self.set_mode("down")

    def _listen(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver._answer(body, dict(self.headers))
                try:
                    self.send_response(status)
                    if status == 302:
                        self.send_header("Location", receiver.url + "/moved")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # genjobs gave up waiting (the slow phase)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        server.block_on_close = False  # slow answers must not hold up a mode change
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server

    def _answer(self, body: bytes, headers: dict[str, str]) -> int:
        mode = self.mode
        with self._lock:
            self.requests += 1
        try:
            payload = verify(body, headers, self.webhook_key)
        except WebhookVerificationError:
            with self._lock:
                self.bad_signatures += 1
            return 400
        if mode == "slow":
            time.sleep(SLOW_ANSWER_S)
        status = {"500": 500, "302": 302}.get(mode, 200)
        if status == 200:
            message_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id", "")
            with self._lock:
                self.acknowledged[payload["data"]["taskId"]].append(message_id)
        return status


@dataclass
class Figures:
    database: str
    cycles: int = 0
    created: int = 0
    unanswered: int = 0
    stored: int = 0
    succeeded: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # by failCode
    lost: int = 0
    stuck: int = 0
    drain_s: float = 0.0  # from the last restart until every task had finished
    duplicated_callbacks: int = 0
    duplicates_with_new_id: int = 0  # not deduplicable by webhook-id
    lost_callbacks: int = 0
    bad_signatures: int = 0
    orphans: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def echo_input(rng: random.Random, index: int) -> dict[str, Any]:
    """A mix of what real tasks do: mostly quick, some long enough to be killed mid-run,
    some failing or crashing their worker, some with large results."""
    roll = rng.random()
    text = f"chaos {index}"
    if roll < 0.40:
        return {"text": text}
    if roll < 0.65:
        return {"text": text, "sleep_s": round(rng.uniform(0.2, 2.0), 2)}
    if roll < 0.75:
        return {"text": text, "sleep_s": round(rng.uniform(2.0, 6.0), 2)}
    if roll < 0.85:
        return {"text": text, "fail": "chaos_requested_failure"}
    if roll < 0.90:
        return {"text": text, "sleep_s": 0.3, "crash": True}
    return {"text": "x" * 1000, "repeat": 500}


class Chaos:
    def __init__(self, database: str, database_url: str | None, args: argparse.Namespace):
        self.args = args
        self.rng = random.Random(f"{args.seed}-{database}")
        self.figures = Figures(database)
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"genjobs-chaos-{database}-"))
        self.receiver = ChaosReceiver(WEBHOOK_KEY)
        env = {
            "GENJOBS_CALLBACK_RETRY_BASE_S": "0.5",
            # Sized so a cycle's work (about 40 slot-seconds) fits in a cycle: a task still
            # unfinished at the end is stuck, not merely behind a backlog.
            "GENJOBS_CONCURRENCY": json.dumps({"genjobs/echo": ECHO_PROCESSES}),
        }
        if database_url:
            env["GENJOBS_DATABASE_URL"] = database_url
        self.server = ServerProcess(
            self.data_dir, api_key=KEY, webhook_key=WEBHOOK_KEY, env=env, port=free_port()
        )
        self.task_ids: list[str] = []
        self._lock = threading.Lock()  # create() runs on several threads

    def run(self) -> Figures:
        started = time.monotonic()
        try:
            for cycle in range(self.args.cycles):
                self.receiver.set_mode(RECEIVER_MODES[cycle % len(RECEIVER_MODES)])
                self.cycle(cycle)
                self.figures.cycles += 1
                print(
                    f"  {self.figures.database} cycle {cycle + 1}/{self.args.cycles}: "
                    f"receiver {self.receiver.mode}, {len(self.task_ids)} tasks created so far",
                    flush=True,
                )
            self.receiver.set_mode("ok")
            self.server.start()
            with httpx.Client(base_url=self.server.base_url, headers=self.server.headers) as api:
                self.settle(api)
            self.server.stop()
        finally:
            self.server.kill()
            self.receiver.close()
        self.figures.bad_signatures = self.receiver.bad_signatures
        self.figures.seconds = round(time.monotonic() - started, 1)
        shutil.rmtree(self.data_dir, ignore_errors=True)
        return self.figures

    def cycle(self, cycle: int) -> None:
        self.server.start()
        kill_after_s = self.rng.uniform(0.2, 6.0)
        inputs = [echo_input(self.rng, cycle * 1000 + i) for i in range(self.args.tasks)]
        with httpx.Client(
            base_url=self.server.base_url, headers=self.server.headers, timeout=10
        ) as api:
            stop = threading.Event()
            with ThreadPoolExecutor(4) as pool:
                started = time.monotonic()
                submitted = [
                    pool.submit(self.create, api, payload, stop, started + i * SUBMIT_GAP_S)
                    for i, payload in enumerate(inputs)
                ]
                time.sleep(kill_after_s)
                workers = psutil.Process(self.server.pid).children(recursive=True)
                self.server.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
                self.server.process.wait()  # type: ignore[union-attr]
                stop.set()
                for future in submitted:
                    future.result()
        _, alive = psutil.wait_procs(workers, timeout=ORPHAN_GRACE_S)
        self.figures.orphans += len(alive)
        for process in alive:  # so the next cycle starts clean
            process.kill()

    def create(
        self, api: httpx.Client, payload: dict[str, Any], stop: threading.Event, at: float
    ) -> None:
        time.sleep(max(0.0, at - time.monotonic()))
        if stop.is_set():
            return
        body = {"model": "genjobs/echo", "input": payload, "callBackUrl": self.receiver.url}
        try:
            answer = api.post("/api/v1/jobs/createTask", json=body).json()
        except (httpx.HTTPError, ValueError):
            stop.set()  # the server is gone: the rest of this cycle's tasks are not sent
            with self._lock:
                self.figures.unanswered += 1
            return
        with self._lock:
            if answer.get("code") == 200:
                self.task_ids.append(answer["data"]["taskId"])
                self.figures.created += 1
            else:
                self.figures.notes.append(f"createTask refused: {answer}")

    def settle(self, api: httpx.Client) -> None:
        """Wait for every task to finish, then for every callback; count what is not."""
        figures = self.figures
        restarted = time.monotonic()
        deadline = restarted + self.args.stuck_after_s
        while True:
            stored = all_tasks(api)
            unfinished = [t for t in stored if t["state"] not in FINAL_STATES]
            if not unfinished or time.monotonic() > deadline:
                break
            time.sleep(1)
        figures.stored = len(stored)
        figures.stuck = len(unfinished)
        figures.drain_s = round(time.monotonic() - restarted, 1)
        for task in unfinished:
            figures.notes.append(f"stuck: {task['taskId']} {task['state']}")
        known = {t["taskId"] for t in stored}
        for task_id in set(self.task_ids) - known:
            answer = api.get("/api/v1/jobs/recordInfo", params={"taskId": task_id}).json()
            if answer.get("code") != 200:
                figures.lost += 1
                figures.notes.append(f"lost: {task_id} {answer}")
        finished = [t for t in stored if t["state"] in FINAL_STATES]
        figures.succeeded = sum(t["state"] == "success" for t in finished)
        figures.failed = dict(Counter(t["failCode"] for t in finished if t["state"] == "fail"))

        deadline = time.monotonic() + self.args.callback_wait_s
        while True:
            missing = [t for t in finished if t["taskId"] not in self.receiver.acknowledged]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(1)
        figures.lost_callbacks = len(missing)
        for task in missing:
            deliveries = api.get("/api/v1/jobs/callbacks", params={"taskId": task["taskId"]})
            figures.notes.append(f"lost callback: {task['taskId']} {deliveries.text[:300]}")
        acknowledged = self.receiver.acknowledged.values()
        figures.duplicated_callbacks = sum(len(ids) > 1 for ids in acknowledged)
        figures.duplicates_with_new_id = sum(len(set(ids)) > 1 for ids in acknowledged)


def all_tasks(api: httpx.Client) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/v1/jobs/list", params=params, timeout=30).json()["data"]
        tasks.extend(page["items"])
        cursor = page["nextCursor"]
        if not cursor:
            return tasks


def report(results: list[Figures], stuck_after_s: float) -> None:
    stuck_label = f"stuck {stuck_after_s:g} s after the last restart"
    rows = [
        ("kill cycles", lambda f: f.cycles),
        ("tasks created (createTask answered)", lambda f: f.created),
        ("createTask unanswered (killed mid-request)", lambda f: f.unanswered),
        ("tasks stored", lambda f: f.stored),
        ("succeeded", lambda f: f.succeeded),
        ("failed", lambda f: sum(f.failed.values())),
        *[
            (f"  failCode {code}", lambda f, code=code: f.failed.get(code, 0))
            for code in sorted({code for f in results for code in f.failed})
        ],
        ("lost", lambda f: f.lost),
        (stuck_label, lambda f: f.stuck),
        ("s from the last restart until all finished", lambda f: f.drain_s),
        ("duplicated callbacks", lambda f: f.duplicated_callbacks),
        ("  of which with different webhook-ids", lambda f: f.duplicates_with_new_id),
        ("lost callbacks", lambda f: f.lost_callbacks),
        ("callbacks with a bad signature", lambda f: f.bad_signatures),
        ("orphan worker processes", lambda f: f.orphans),
        ("wall time, s", lambda f: f.seconds),
    ]
    width = max(len(label) for label, _ in rows)
    print("\n" + " " * width + "".join(f"{f.database:>12}" for f in results))
    for label, value in rows:
        print(f"{label:<{width}}" + "".join(f"{value(f):>12}" for f in results))
    for figures in results:
        for note in figures.notes[:20]:
            print(f"{figures.database}: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=50, help="tasks submitted per cycle")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stuck-after-s", type=float, default=120.0)
    parser.add_argument("--callback-wait-s", type=float, default=150.0)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()

    results = []
    for database in args.databases.split(","):
        print(f"{database}: {args.cycles} cycles of {args.tasks} tasks", flush=True)
        if database == "postgresql":
            with fresh_postgres() as url:
                results.append(Chaos(database, url, args).run())
        elif database == "sqlite":
            results.append(Chaos(database, None, args).run())
        else:
            parser.error(f"--databases: unknown database {database!r}")
    report(results, args.stuck_after_s)
    if args.json:
        print(json.dumps([asdict(f) for f in results]))


if __name__ == "__main__":
    main()
