"""The runner's pieces on their own, on a real SQLite database and real worker processes:
the sweeper, the outcome recorder, the lease keeper, the supervisor and the messages
between the server and its workers."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, update

from genjobs.backends.memory import MemoryBackend
from genjobs.backends.sqlite import SqliteBackend
from genjobs.config import Settings
from genjobs.core.states import FailCode, State
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage, StoredFile, open_storage
from genjobs.runtime.claim_loop import Claims
from genjobs.runtime.leases import LeaseKeeper
from genjobs.runtime.messages import (
    CancelTask,
    Done,
    Failed,
    FrameReader,
    FromWorker,
    Progress,
    Ready,
    RunTask,
    SetupFailed,
    ToWorker,
    WorkerDied,
    WorkerEvent,
    decode_to_worker,
    encode,
    frame,
)
from genjobs.runtime.outcomes import Outcome, OutcomeRecorder
from genjobs.runtime.pool import ModelPool, WorkerProcess
from genjobs.runtime.running import RunningTasks
from genjobs.runtime.supervisor import Supervisor
from genjobs.runtime.sweeper import STALE_WAITING_MS, Sweeper
from genjobs.store import files, keys, lifecycle, tasks
from genjobs.store.database import Database
from genjobs.store.tables import tasks as tasks_table

ECHO = "genjobs/echo"
POLICY = lifecycle.OutboxPolicy(max_attempts=3, retention_ms=86_400_000)
T = TypeVar("T")


@dataclass
class Service:
    """The collaborators a runner's pieces are given, on a database of the test's own:
    a SQLite file, or SQLite in memory (the memory backend)."""

    db: Database
    events: TaskEvents
    backend: SqliteBackend
    owner: str

    def run(self, fn: Callable[[Connection], T]) -> T:
        return self.db.run_sync(fn)

    def new_task(self, **fields: Any) -> lifecycle.NewTask:
        """A task of echo that costs one of the owner's credits."""
        return lifecycle.NewTask(
            owner_id=self.owner,
            model=ECHO,
            param=json.dumps({"model": ECHO, "input": {"text": "hi", **fields}}),
            price=1.0,
            callback_url=None,
            progress_callback_url=None,
            idempotency_key=None,
            request_hash=None,
        )

    def create(self, **fields: Any) -> str:
        """A task of echo, queued."""
        new = self.new_task(**fields)
        task_id = self.run(lambda conn: lifecycle.create(conn, new))
        self.run(lambda conn: tasks.enqueue_many(conn, [task_id]))
        return task_id

    def claim(self, lease_s: float = 30.0, count: int = 1) -> list[Any]:
        """Claim queued tasks as a runner would (a negative lease has lapsed already)."""
        lease_ms = int(lease_s * 1000)
        return self.run(lambda conn: tasks.claim(conn, {ECHO: count}, "test-runner", lease_ms))

    def task(self, task_id: str) -> Any:
        return self.run(lambda conn: tasks.get(conn, task_id))

    def balance(self) -> float:
        return self.run(lambda conn: keys.balance(conn, self.owner))


@pytest.fixture(params=["sqlite", "memory"])
def service(request: pytest.FixtureRequest) -> Iterator[Service]:
    events = TaskEvents()
    if request.param == "memory":
        memory = MemoryBackend(events, POLICY)
        backend: SqliteBackend = memory
        cleanup = memory.close
    else:
        db = request.getfixturevalue("db")
        backend, cleanup = SqliteBackend(db, events, POLICY), lambda: None
    owner, _ = backend.db.run_sync(lambda conn: keys.create_key(conn, name="owner", credits=10.0))
    yield Service(backend.db, events, backend, owner)
    cleanup()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return open_storage(settings)


# --- the sweeper ------------------------------------------------------------------------
def sweeper(service: Service, ours: RunningTasks | None = None) -> Sweeper:
    return Sweeper(
        backend=service.backend,
        events=service.events,
        max_attempts=2,
        ours=ours or RunningTasks(service.events, cancel_grace_s=5.0),
    )


def test_the_sweeper_retries_a_lapsed_lease_then_fails_it_with_worker_lost(
    service: Service,
) -> None:
    task_id = service.create()
    service.claim(lease_s=-1)  # attempt 1, its lease lapsed at once: its runner is gone

    asyncio.run(sweeper(service).sweep())
    task = service.task(task_id)
    assert (task["state"], task["attempt"], task["worker_id"], task["lease_until"]) == (
        State.QUEUING,
        1,
        None,
        None,
    )
    assert service.events.take_work() == {ECHO}  # the claim loop is told

    service.claim(lease_s=-1)  # attempt 2 = max_attempts, lost again
    asyncio.run(sweeper(service).sweep())
    task = service.task(task_id)
    assert (task["state"], task["fail_code"]) == (State.FAIL, FailCode.WORKER_LOST)
    assert task["fail_msg"] == "the worker running the task was lost 2 times"
    assert service.balance() == 10.0  # refunded


def test_the_sweeper_fails_a_canceled_task_whose_lease_lapsed(service: Service) -> None:
    task_id = service.create()
    [row] = service.claim(lease_s=-1)
    service.run(lambda conn: lifecycle.request_cancel(conn, row, POLICY))

    asyncio.run(sweeper(service).sweep())
    task = service.task(task_id)
    assert (task["state"], task["fail_code"]) == (State.FAIL, FailCode.CANCELED)
    assert service.balance() == 10.0


def test_the_sweeper_leaves_our_own_running_tasks_alone(service: Service) -> None:
    task_id = service.create()
    [row] = service.claim(lease_s=-1)  # ours: the lease keeper is merely late
    ours = RunningTasks(service.events, cancel_grace_s=5.0)
    ours.start(row)

    asyncio.run(sweeper(service, ours).sweep())
    assert service.task(task_id)["state"] == State.GENERATING


def test_the_sweeper_hands_a_task_left_waiting_to_the_queue(service: Service) -> None:
    task_id = service.create()
    long_ago = time.time() * 1000 - STALE_WAITING_MS - 1000
    service.run(
        lambda conn: conn.execute(
            update(tasks_table)
            .where(tasks_table.c.id == task_id)
            .values(state=State.WAITING, update_time=long_ago)
        )
    )

    async def sweep_and_flush() -> None:
        await sweeper(service).sweep()
        await asyncio.sleep(0.1)  # the dispatcher's hand-off commits within 2 ms

    asyncio.run(sweep_and_flush())
    assert service.task(task_id)["state"] == State.QUEUING


# --- claims and wake-ups ----------------------------------------------------------------
def test_claims_take_the_oldest_tasks_up_to_the_free_slots_and_a_hand_off_wakes_the_loop(
    service: Service,
) -> None:
    queued = [service.create() for _ in range(3)]
    claims = Claims("test-runner", 30.0, [ECHO])
    new = service.new_task(text="later")

    async def scenario() -> None:
        backend = service.backend
        first = await backend.claim(claims.request({ECHO: 2}))
        claims.claimed({ECHO: 2}, first)
        assert len(first) == 2 and {row["id"] for row in first} < set(queued)
        assert claims.may_have_queued(ECHO)
        rest = await backend.claim(claims.request({ECHO: 2}))
        claims.claimed({ECHO: 2}, rest)
        assert {row["id"] for row in first + rest} == set(queued)
        assert not claims.may_have_queued(ECHO)  # the claim came back short
        assert all(row["state"] == State.GENERATING for row in first + rest)

        service.events.take_work()
        task_id, created = await backend.create(new)
        assert created
        await backend.enqueue(task_id, ECHO)
        claims.arrived(await backend.wait_for_work(5.0))  # woken by the hand-off's commit
        assert claims.may_have_queued(ECHO)
        [row] = await backend.claim(claims.request({ECHO: 1}))
        assert row["id"] == task_id
        record = await backend.read_record(task_id, service.owner)  # prepared, no transaction
        assert record is not None and record["state"] == State.GENERATING

    asyncio.run(scenario())
    assert service.balance() == 6.0


# --- the outcome recorder ---------------------------------------------------------------
def recorder(service: Service, storage: Storage, claims: Claims | None = None) -> OutcomeRecorder:
    return OutcomeRecorder(
        backend=service.backend,
        storage=storage,
        events=service.events,
        claims=claims or Claims("test-runner", 30.0, [ECHO]),
    )


def saved_result(storage: Storage) -> StoredFile:
    return storage.save_bytes("results", "out.txt", b"generated")


def is_stored(storage: Storage, stored: StoredFile) -> bool:
    return storage.find(stored.kind, stored.token, stored.name) is not None


def test_a_canceled_run_keeps_no_files(service: Service, storage: Storage) -> None:
    task_id = service.create()
    [row] = service.claim()
    stored = saved_result(storage)  # the model finished anyway

    asyncio.run(recorder(service, storage).record(row, Outcome.canceled([stored]), 42))
    task = service.task(task_id)
    assert (task["state"], task["fail_code"], task["cost_time"]) == (
        State.FAIL,
        FailCode.CANCELED,
        42,
    )
    assert not is_stored(storage, stored)
    assert service.run(lambda conn: files.get(conn, stored.token)) is None
    assert service.balance() == 10.0


def test_a_successful_run_keeps_its_files_with_its_result(
    service: Service, storage: Storage
) -> None:
    task_id = service.create()
    [row] = service.claim()
    stored = saved_result(storage)
    outcome = Outcome.succeeded('{"resultUrls": []}', [stored])

    asyncio.run(recorder(service, storage).record(row, outcome, 42))
    task = service.task(task_id)
    assert (task["state"], task["result_json"]) == (State.SUCCESS, '{"resultUrls": []}')
    assert is_stored(storage, stored)
    assert service.run(lambda conn: files.get(conn, stored.token))["task_id"] == task_id
    assert service.balance() == 9.0


def test_an_outcome_claims_the_next_queued_task_until_the_queue_is_drained(
    service: Service, storage: Storage
) -> None:
    first, second = service.create(), service.create()
    [row] = service.claim()
    claims = Claims("test-runner", 30.0, [ECHO])
    outcomes = recorder(service, storage, claims)

    next_row = asyncio.run(outcomes.record(row, Outcome.succeeded("{}", []), 1))
    assert row["id"] == first and next_row is not None and next_row["id"] == second
    assert service.task(second)["state"] == State.GENERATING
    assert claims.may_have_queued(ECHO)

    assert asyncio.run(outcomes.record(next_row, Outcome.succeeded("{}", []), 1)) is None
    assert not claims.may_have_queued(ECHO)  # the claim came back short


def test_a_stale_outcome_changes_nothing(service: Service, storage: Storage) -> None:
    task_id = service.create()
    [stale] = service.claim(lease_s=-1)
    asyncio.run(sweeper(service).sweep())  # retried: the stale attempt's lease is gone
    service.claim()  # attempt 2 runs elsewhere

    outcome = Outcome.failed(FailCode.MODEL_ERROR, "late")
    asyncio.run(recorder(service, storage).record(stale, outcome, 1))
    task = service.task(task_id)
    assert (task["state"], task["attempt"]) == (State.GENERATING, 2)


# --- the lease keeper -------------------------------------------------------------------
def test_the_lease_keeper_renews_abandons_lost_leases_and_passes_on_cancels(
    service: Service,
) -> None:
    kept_id, lost_id, canceled_id = service.create(), service.create(), service.create()
    rows = {row["id"]: row for row in service.claim(lease_s=1, count=3)}
    running = RunningTasks(service.events, cancel_grace_s=5.0)
    held = {task_id: running.start(row) for task_id, row in rows.items()}
    # Our lease of one lapsed: a sweeper retried it and another runner claimed it; and
    # the API flagged another to cancel.
    service.run(lambda conn: lifecycle.requeue(conn, rows[lost_id]))
    assert service.claim()[0]["attempt"] == 2
    service.run(lambda conn: lifecycle.request_cancel(conn, rows[canceled_id], POLICY))

    before = time.time() * 1000
    asyncio.run(LeaseKeeper(service.backend, running, lease_s=60.0).renew())
    assert service.task(kept_id)["lease_until"] >= before + 59_000
    assert held[lost_id].lost and not held[kept_id].lost
    assert held[canceled_id].cancel_deadline is not None
    assert held[kept_id].cancel_deadline is None


# --- the messages -----------------------------------------------------------------------
TO_WORKER: list[ToWorker] = [
    RunTask("t1", {"text": "hi", "nested": {"n": [1, 2.5, None]}}),
    CancelTask("t1"),
]
FROM_WORKER: list[FromWorker] = [
    Ready(),
    SetupFailed("OSError: no weights"),
    Progress("t1", 42),
    Done("t1", '{"resultObject": {}}', (StoredFile("results", "tok", "a.mp4", 3, "video/mp4"),)),
    Done("t2", json.dumps({"resultObject": {"text": "x" * 3_000_000}}), ()),  # > socket buffer
    Failed("t1", "input_too_large", "talk.mp3 is larger than 10 bytes"),
]


@pytest.fixture
def pipe() -> Iterator[tuple[Any, socket.socket]]:
    """A real pipe as the server makes one: the worker's ``Connection`` at one end, a
    plain socket (what the server's event loop reads and writes) at the other."""
    server_conn, worker_conn = multiprocessing.get_context("spawn").Pipe()
    server = socket.socket(fileno=os.dup(server_conn.fileno()))
    server_conn.close()
    yield worker_conn, server
    worker_conn.close()
    server.close()


def test_messages_to_a_worker_cross_the_pipe_framing(pipe: tuple[Any, socket.socket]) -> None:
    worker_conn, server = pipe
    for message in TO_WORKER:
        server.sendall(frame(message))
        assert decode_to_worker(worker_conn.recv_bytes()) == message


def test_messages_from_a_worker_cross_the_pipe_framing(pipe: tuple[Any, socket.socket]) -> None:
    worker_conn, server = pipe
    sender = threading.Thread(
        target=lambda: [worker_conn.send_bytes(encode(message)) for message in FROM_WORKER]
    )
    sender.start()
    reader, received = FrameReader(), []
    while len(received) < len(FROM_WORKER):
        received += reader.feed(server.recv(65536))  # messages cut at arbitrary bytes
    sender.join()
    assert received == FROM_WORKER


def test_the_frame_reader_cuts_messages_anywhere_and_reads_long_headers() -> None:
    body = encode(Progress("t1", 7))
    long_form = struct.pack("!i", -1) + struct.pack("!Q", len(body)) + body  # >= 2 GiB form
    stream = frame(Ready()) + long_form + frame(Progress("t1", 8))
    reader = FrameReader()
    received = [message for byte in stream for message in reader.feed(bytes([byte]))]
    assert received == [Ready(), Progress("t1", 7), Progress("t1", 8)]


def test_a_message_sent_the_wrong_way_is_not_decoded() -> None:
    with pytest.raises(KeyError):
        FrameReader().feed(frame(RunTask("t1", {})))
    with pytest.raises(KeyError):
        decode_to_worker(encode(Done("t1", "{}", ())))


# --- a real worker process, and the supervisor ----------------------------------------
async def events_until(
    worker: WorkerProcess, last: Callable[[WorkerEvent], bool]
) -> list[WorkerEvent]:
    """The worker's events up to and including the first for which ``last`` holds."""
    events: list[WorkerEvent] = []
    while not events or not last(events[-1]):
        async with asyncio.timeout(30):
            events.append(await worker.messages.get())
    return events


def test_a_worker_process_speaks_every_message(settings: Settings) -> None:
    def ended(task_id: str) -> Callable[[WorkerEvent], bool]:
        return lambda event: isinstance(event, Done | Failed) and event.task_id == task_id

    async def scenario() -> list[WorkerEvent]:
        pool = ModelPool(ECHO, 1, settings)
        pool.reserve()
        worker = await pool.acquire(60)  # it said Ready
        try:
            worker.send(RunTask("run", {"text": "hi", "sleep_s": 0.2}))
            events = await events_until(worker, ended("run"))
            worker.send(RunTask("fail", {"text": "hi", "fail": "nope"}))
            events += await events_until(worker, ended("fail"))
            worker.send(CancelTask("run"))  # a late cancel of a finished task: dropped
            worker.send(RunTask("cancel", {"text": "hi", "sleep_s": 30}))
            worker.send(CancelTask("cancel"))
            events += await events_until(worker, ended("cancel"))
            worker.send(RunTask("crash", {"text": "hi", "crash": True}))
            events += await events_until(worker, lambda event: isinstance(event, WorkerDied))
        finally:
            worker.kill()
            pool.release(worker)
        return events

    events = asyncio.run(scenario())
    progress = [event for event in events if isinstance(event, Progress)]
    assert [event.percent for event in progress if event.task_id == "run"] == [50, 100]
    assert Done("run", '{"resultObject": {"text": "hi"}}', ()) in events
    assert Failed("fail", "nope", "echo was asked to fail with 'nope'") in events
    assert Failed("cancel", FailCode.CANCELED, "the task was canceled") in events
    assert events[-1] == WorkerDied(exit_code=3)


def test_the_supervisor_ends_a_run_at_its_timeout_or_on_cancel(
    service: Service, settings: Settings
) -> None:
    too_long, canceled = service.create(sleep_s=30), service.create(sleep_s=30)
    rows = {row["id"]: row for row in service.claim(count=2)}
    running = RunningTasks(service.events, cancel_grace_s=5.0)
    supervisor = Supervisor(backend=service.backend, events=service.events, running=running)

    async def run(task_id: str, timeout_s: float, cancel_after_s: float | None) -> Outcome:
        pool = ModelPool(ECHO, 1, settings)
        pool.reserve()
        worker = await pool.acquire(60)
        task = running.start(rows[task_id])
        if cancel_after_s is not None:  # as the API's cancel reaches the runner
            asyncio.get_running_loop().call_later(cancel_after_s, running.cancel, task_id)
        try:
            deadline = time.monotonic() + timeout_s
            outcome = await supervisor.run(task, worker, deadline=deadline, timeout_s=timeout_s)
            # Killed past its timeout (never handed to the next task); a model that
            # honoured the cancel keeps its warm process.
            assert worker.alive() == (outcome.fail_code != FailCode.TIMEOUT)
            return outcome
        finally:
            worker.kill()
            pool.release(worker)

    assert asyncio.run(run(too_long, 1.5, None)) == Outcome.failed(
        FailCode.TIMEOUT, "the model ran longer than its timeout of 1.5 s"
    )
    assert service.task(too_long)["progress"] > 0  # written as it came
    assert asyncio.run(run(canceled, 60.0, 0.5)) == Outcome.canceled()
