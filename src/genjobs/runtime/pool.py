"""Worker processes, per model: spawned on demand, kept warm, replaced when they die.

Each process hosts one model (loaded once) and runs one task at a time, so a model's
``concurrency`` is the number of its processes. The parent talks to a process over a
pipe, read by the event loop itself when it is readable (no reader thread: handing each
message from a thread to the loop cost more than the rest of a short task's round trip).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from genjobs.config import Settings
from genjobs.runtime.worker_process import worker_main

log = logging.getLogger("genjobs.pool")
_spawn = multiprocessing.get_context("spawn")  # never fork a process that has threads
DEAD = ("dead",)


class WorkerProcess:
    def __init__(self, model_name: str, settings: Settings) -> None:
        self.model_name = model_name
        parent_conn, child_conn = _spawn.Pipe()
        self._conn: Connection = parent_conn
        self.process: BaseProcess = _spawn.Process(
            target=worker_main,
            args=(child_conn, settings, model_name),
            name=f"genjobs-worker[{model_name}]",
            daemon=True,
        )
        self.process.start()
        child_conn.close()
        self.messages: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self._killed = False
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._conn.fileno(), self._read)

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def _read(self) -> None:
        # One message per call (the loop calls again while the pipe stays readable). The
        # child writes a message whole, so once the pipe is readable recv() returns after
        # at most the time the child takes to write the rest of it.
        try:
            self.messages.put_nowait(self._conn.recv())
        except (EOFError, OSError):
            self._loop.remove_reader(self._conn.fileno())
            self._conn.close()
            self._loop.create_task(self._report_death())

    async def _report_death(self) -> None:
        # Joined off the loop: the exit code (for the task's failMsg) may take a moment.
        await asyncio.to_thread(self.process.join, 5)
        self.messages.put_nowait(DEAD)

    def alive(self) -> bool:
        # A killed process can look alive for a moment after SIGKILL; it must never be
        # handed to the next task.
        return not self._killed and self.process.is_alive()

    def send(self, *message: Any) -> bool:
        try:
            # Plain pickle, not Connection.send: its ForkingPickler (which can pass sockets
            # and file descriptors) copies a dispatch table for every message.
            self._conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))
            return True
        except (OSError, ValueError):
            return False

    def kill(self) -> None:
        self._killed = True
        if self.process.is_alive():
            self.process.kill()


class ModelPool:
    """Up to ``capacity`` warm processes of one model."""

    def __init__(self, model_name: str, capacity: int, settings: Settings) -> None:
        self.model_name = model_name
        self.capacity = capacity
        self._settings = settings
        self._idle: list[WorkerProcess] = []
        self.busy = 0

    @property
    def free(self) -> int:
        return self.capacity - self.busy

    def reserve(self) -> None:
        """Take a slot; done synchronously when a task is claimed, so the runner can never
        claim more tasks than the model's concurrency allows."""
        if self.busy >= self.capacity:
            raise RuntimeError(f"no free slot for {self.model_name}")
        self.busy += 1

    async def acquire(self, setup_timeout_s: float) -> WorkerProcess:
        """A ready process for a reserved slot: an idle warm one, or a new one once its
        model has loaded. Raises RuntimeError when the model cannot be loaded."""
        while self._idle:
            worker = self._idle.pop()
            if worker.alive():
                return worker
        worker = WorkerProcess(self.model_name, self._settings)
        try:
            async with asyncio.timeout(setup_timeout_s):
                message = await worker.messages.get()
        except TimeoutError:
            message = ("setup_failed", f"setup took longer than {setup_timeout_s:g} s")
        except BaseException:
            worker.kill()
            raise
        if message[0] != "ready":
            worker.kill()
            reason = message[1] if message[0] == "setup_failed" else "the process died"
            raise RuntimeError(f"model {self.model_name} could not be loaded: {reason}")
        return worker

    def release(self, worker: WorkerProcess | None) -> None:
        """Free the slot; a live process stays warm for the next task."""
        self.busy -= 1
        if worker is not None and worker.alive():
            self._idle.append(worker)

    def shutdown(self) -> None:
        for worker in self._idle:
            worker.kill()
        self._idle.clear()
