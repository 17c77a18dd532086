"""Worker processes, per model: spawned on demand, kept warm, replaced when they die.

Each process hosts one model (loaded once) and runs one task at a time, so a model's
``concurrency`` is the number of its processes. The parent talks to a process over a
socket pair owned by the event loop (an asyncio protocol, no reader thread: handing each
message from a thread to the loop cost more than the rest of a short task's round trip).

The loop must own the socket: uvloop's readers put it into non-blocking mode, and a
blocking-style ``Connection.recv()`` of a message larger than the socket buffer then
failed with BlockingIOError whenever the child had not yet written the rest (under CPU
load), which looked like the worker's death: the parent closed its end and the child died
of a broken pipe sending its result. The protocol gathers whatever bytes arrive and cuts
them into messages itself; its writes are buffered, so a large input is never cut short.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import socket
from multiprocessing.process import BaseProcess

from genjobs.config import Settings
from genjobs.runtime.messages import (
    FrameReader,
    Ready,
    SetupFailed,
    ToWorker,
    WorkerDied,
    WorkerEvent,
    frame,
)
from genjobs.runtime.worker_process import worker_main

log = logging.getLogger("genjobs.pool")
_spawn = multiprocessing.get_context("spawn")  # never fork a process that has threads


class _PipeProtocol(asyncio.Protocol):
    """The parent's end: whole messages into ``worker.messages``, EOF as the death."""

    def __init__(self, worker: WorkerProcess) -> None:
        self._worker = worker
        self._reader = FrameReader()

    def data_received(self, data: bytes) -> None:
        for message in self._reader.feed(data):
            self._worker.messages.put_nowait(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self._worker.pipe_closed()


class WorkerProcess:
    def __init__(self, model_name: str, process: BaseProcess) -> None:
        self.model_name = model_name
        self.process = process
        self.messages: asyncio.Queue[WorkerEvent] = asyncio.Queue()
        self._transport: asyncio.Transport | None = None
        self._killed = False

    @classmethod
    async def spawn(cls, model_name: str, settings: Settings) -> WorkerProcess:
        parent_conn, child_conn = _spawn.Pipe()
        process = _spawn.Process(
            target=worker_main,
            args=(child_conn, settings, model_name),
            name=f"genjobs-worker[{model_name}]",
            daemon=True,
        )
        process.start()
        child_conn.close()
        worker = cls(model_name, process)
        # The pipe is a socket pair: the loop takes a socket of its own on the parent's end.
        sock = socket.socket(fileno=os.dup(parent_conn.fileno()))
        parent_conn.close()
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.connect_accepted_socket(lambda: _PipeProtocol(worker), sock)
        except BaseException:
            # Cancelled (shutdown) or refused: nobody would ever kill the started process.
            worker.kill()
            raise
        worker._transport = transport
        return worker

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def pipe_closed(self) -> None:
        asyncio.get_running_loop().create_task(self._report_death())

    async def _report_death(self) -> None:
        # Joined off the loop: the exit code (for the task's failMsg) may take a moment.
        await asyncio.to_thread(self.process.join, 5)
        self.messages.put_nowait(WorkerDied(self.process.exitcode))

    def alive(self) -> bool:
        # A killed process can look alive for a moment after SIGKILL; it must never be
        # handed to the next task.
        return not self._killed and self.process.is_alive()

    def send(self, message: ToWorker) -> bool:
        """Queue a message to the process; False when its pipe is already closed."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return False
        transport.write(frame(message))
        return True

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
        worker = await WorkerProcess.spawn(self.model_name, self._settings)
        try:
            async with asyncio.timeout(setup_timeout_s):
                message = await worker.messages.get()
        except TimeoutError:
            message = SetupFailed(f"setup took longer than {setup_timeout_s:g} s")
        except BaseException:
            worker.kill()
            raise
        match message:
            case Ready():
                return worker
            case SetupFailed(reason):
                pass
            case _:  # it died (nothing else comes before Ready)
                reason = "the process died"
        worker.kill()
        raise RuntimeError(f"model {self.model_name} could not be loaded: {reason}")

    def release(self, worker: WorkerProcess | None) -> None:
        """Free the slot; a live process stays warm for the next task."""
        self.busy -= 1
        if worker is not None and worker.alive():
            self._idle.append(worker)

    def shutdown(self) -> None:
        for worker in self._idle:
            worker.kill()
        self._idle.clear()
