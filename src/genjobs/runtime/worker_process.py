"""The body of a worker process: load one model once, then run tasks sent by the parent.

It speaks the messages of ``runtime.messages``: ``Ready`` or ``SetupFailed`` first, then
for each ``RunTask`` any number of ``Progress`` and one ``Done`` or ``Failed``. A model
that kills the process is seen by the parent as EOF.

The main thread reads the pipe itself: no reader thread, so a task reaches the model
without a hop between threads (which cost more than a short model's whole run). A
``cancel`` that arrives while the model runs is read when the model asks whether it was
cancelled (``ctx.cancelled``, ``ctx.check_cancelled()``, ``ctx.progress()``); a model
that never asks is killed by the parent after the cancel grace period.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
import traceback
from functools import partial
from multiprocessing.connection import Connection, wait

from genjobs.config import Settings, use_settings
from genjobs.core.states import FailCode
from genjobs.files.storage import Storage, open_storage
from genjobs.runtime.context import RunContext
from genjobs.runtime.fail_message import public_fail_message
from genjobs.runtime.inputs import validate_input
from genjobs.runtime.messages import (
    CancelTask,
    Done,
    Failed,
    FromWorker,
    Progress,
    Ready,
    RunTask,
    SetupFailed,
    ToWorker,
    decode_to_worker,
    encode,
)
from genjobs.runtime.model import TaskFailed
from genjobs.runtime.registry import ModelRegistry

log = logging.getLogger("genjobs.worker")


class _Channel:
    """The pipe to the parent. Sends are serialised by a lock (a model may report
    progress from several threads); so are the reads of a cancel check."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._send_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._running: str | None = None
        self._cancelled = False

    def send(self, message: FromWorker) -> None:
        data = encode(message)
        with self._send_lock:
            self._conn.send_bytes(data)

    def report_progress(self, task_id: str, percent: int) -> None:
        self.send(Progress(task_id, percent))

    def next_run(self) -> RunTask:
        """Block until the parent sends a task; a late cancel of a finished one is dropped."""
        while True:
            match self._recv():
                case RunTask(task_id) as run:
                    self._running, self._cancelled = task_id, False
                    return run
                case CancelTask():
                    pass  # it came after its task had ended

    def cancel_requested(self) -> bool:
        """Whether the running task was cancelled, reading what the parent has sent."""
        with self._read_lock:
            while not self._cancelled and self._conn.poll():
                match self._recv():
                    case CancelTask(task_id) if task_id == self._running:
                        self._cancelled = True
                    case _:  # a late cancel of an earlier task
                        pass
        return self._cancelled

    def _recv(self) -> ToWorker:
        try:
            body = self._conn.recv_bytes()
        except (EOFError, OSError):
            os._exit(0)  # the server is gone: nothing left to work for
        return decode_to_worker(body)


class _PipeCancel:
    """The RunContext's cancel signal: asks the pipe."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def is_set(self) -> bool:
        return self._channel.cancel_requested()


def _exit_with_parent() -> None:
    """End this process when the server process dies, even while a model is running
    (the parent's sentinel becomes readable when it exits, however it exits)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        wait([parent.sentinel])
        os._exit(0)


def worker_main(conn: Connection, settings: Settings, model_name: str) -> None:
    use_settings(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    threading.Thread(target=_exit_with_parent, name="genjobs-parent-watch", daemon=True).start()
    channel = _Channel(conn)
    model = ModelRegistry.from_entry_points().get(model_name)
    try:
        if model is None:
            raise LookupError(f"model {model_name!r} is not installed in the worker")
        model.setup()
    except Exception as exc:
        log.exception("setup of %s failed", model_name)
        channel.send(SetupFailed(f"{type(exc).__name__}: {exc}"))
        return
    channel.send(Ready())
    storage = open_storage(settings)
    cancel_signal = _PipeCancel(channel)
    while True:
        run = channel.next_run()
        task_id = run.task_id
        ctx = RunContext(
            task_id,
            settings,
            storage,
            settings.data_dir / "work" / task_id,
            on_progress=partial(channel.report_progress, task_id),
            cancel_event=cancel_signal,
        )
        try:
            # The API has applied GENJOBS_STRICT_INPUT already: keys it let through unknown
            # are dropped here the same way.
            model_input, _ = validate_input(model.input_schema, run.input, strict=False)
            result = model.run(model_input, ctx)
            result_json = json.dumps(result, ensure_ascii=False)
            channel.send(Done(task_id, result_json, tuple(ctx.outputs)))
        except TaskFailed as exc:
            _discard(storage, ctx)
            channel.send(Failed(task_id, exc.code, public_fail_message(exc.message)))
        except Exception as exc:
            _discard(storage, ctx)
            log.error("model %s failed on %s:\n%s", model_name, task_id, traceback.format_exc())
            message = public_fail_message(f"{type(exc).__name__}: {exc}")
            channel.send(Failed(task_id, FailCode.MODEL_ERROR, message))
        finally:
            ctx.close()


def _discard(storage: Storage, ctx: RunContext) -> None:
    """A failed run keeps no result files: nobody will ever get a link to them."""
    for stored in ctx.outputs:
        storage.delete(stored.kind, stored.token)
