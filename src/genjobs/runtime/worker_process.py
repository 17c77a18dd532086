"""The body of a worker process: load one model once, then run tasks sent by the parent.

Messages parent -> child: ("run", task_id, input_dict) and ("cancel", task_id).
Messages child -> parent: ("ready",), ("setup_failed", message), ("progress", task_id,
percent), ("done", task_id, result_json_text, [StoredFile...]) and ("failed", task_id,
fail_code, fail_msg). A model that kills the process is seen by the parent as EOF.

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
import pickle
import threading
import traceback
from functools import partial
from multiprocessing.connection import Connection, wait
from typing import Any

from genjobs.config import Settings, use_settings
from genjobs.core.states import FailCode
from genjobs.files.storage import Storage
from genjobs.runtime.context import RunContext
from genjobs.runtime.fail_message import public_fail_message
from genjobs.runtime.inputs import validate_input
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

    def send(self, *message: Any) -> None:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)  # plain data: no ForkingPickler
        with self._send_lock:
            self._conn.send_bytes(data)

    def next_run(self) -> tuple[str, dict[str, Any]]:
        """Block until the parent sends a task; a late cancel of a finished one is dropped."""
        while True:
            message = self._recv()
            if message[0] == "run":
                self._running, self._cancelled = message[1], False
                return message[1], message[2]

    def cancel_requested(self) -> bool:
        """Whether the running task was cancelled, reading what the parent has sent."""
        with self._read_lock:
            while not self._cancelled and self._conn.poll():
                message = self._recv()
                if message[0] == "cancel" and message[1] == self._running:
                    self._cancelled = True
        return self._cancelled

    def _recv(self) -> Any:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # the server is gone: nothing left to work for


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
        channel.send("setup_failed", f"{type(exc).__name__}: {exc}")
        return
    channel.send("ready")
    storage = Storage(settings.files_dir, settings.base_url, settings.signing_key)
    cancel_signal = _PipeCancel(channel)
    while True:
        task_id, raw_input = channel.next_run()
        ctx = RunContext(
            task_id,
            settings,
            storage,
            settings.data_dir / "work" / task_id,
            on_progress=partial(channel.send, "progress", task_id),
            cancel_event=cancel_signal,
        )
        try:
            # The API has applied GENJOBS_STRICT_INPUT already: keys it let through unknown
            # are dropped here the same way.
            model_input, _ = validate_input(model.input_schema, raw_input, strict=False)
            result = model.run(model_input, ctx)
            channel.send("done", task_id, json.dumps(result, ensure_ascii=False), ctx.outputs)
        except TaskFailed as exc:
            _discard(storage, ctx)
            channel.send("failed", task_id, exc.code, public_fail_message(exc.message))
        except Exception as exc:
            _discard(storage, ctx)
            log.error("model %s failed on %s:\n%s", model_name, task_id, traceback.format_exc())
            message = public_fail_message(f"{type(exc).__name__}: {exc}")
            channel.send("failed", task_id, FailCode.MODEL_ERROR, message)
        finally:
            ctx.close()


def _discard(storage: Storage, ctx: RunContext) -> None:
    """A failed run keeps no result files: nobody will ever get a link to them."""
    for stored in ctx.outputs:
        storage.delete(stored.kind, stored.token)
