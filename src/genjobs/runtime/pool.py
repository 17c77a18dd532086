"""Worker processes, per model: spawned on demand, kept warm, replaced when they die.

Each process hosts one model (loaded once) and runs one task at a time, so a model's
``concurrency`` is the number of its processes. The parent talks to a process over a
pipe; a reader thread per process turns its messages into an asyncio queue.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
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
        loop = asyncio.get_running_loop()
        threading.Thread(
            target=self._read, args=(loop,), name="genjobs-pool-reader", daemon=True
        ).start()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                self.process.join(timeout=5)
                message = DEAD
            try:
                loop.call_soon_threadsafe(self.messages.put_nowait, message)
            except RuntimeError:  # the event loop is closed: the server has stopped
                return
            if message is DEAD:
                return

    def alive(self) -> bool:
        # A killed process can look alive for a moment after SIGKILL; it must never be
        # handed to the next task.
        return not self._killed and self.process.is_alive()

    def send(self, *message: Any) -> bool:
        try:
            self._conn.send(message)
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
