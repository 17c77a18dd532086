"""The body of a worker process: load one model once, then run tasks sent by the parent.

Messages parent -> child: ("run", task_id, input_dict) and ("cancel", task_id).
Messages child -> parent: ("ready",), ("setup_failed", message), ("progress", task_id,
percent), ("done", task_id, result_json_text, [StoredFile...]) and ("failed", task_id,
fail_code, fail_msg). A model that kills the process is seen by the parent as EOF.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import traceback
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from genjobs.config import Settings, use_settings
from genjobs.core.states import FailCode
from genjobs.files.storage import Storage
from genjobs.runtime.context import RunContext
from genjobs.runtime.model import TaskFailed
from genjobs.runtime.registry import ModelRegistry

log = logging.getLogger("genjobs.worker")


class _Channel:
    """The pipe to the parent: one reader thread, sends serialised by a lock."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._send_lock = threading.Lock()
        self.runs: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.cancelled: dict[str, threading.Event] = {}
        threading.Thread(target=self._read, name="genjobs-worker-reader", daemon=True).start()

    def send(self, *message: Any) -> None:
        with self._send_lock:
            self._conn.send(message)

    def _read(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the server is gone: nothing left to work for
            if message[0] == "run":
                self.cancelled[message[1]] = threading.Event()
                self.runs.put((message[1], message[2]))
            elif message[0] == "cancel" and message[1] in self.cancelled:
                self.cancelled[message[1]].set()


def worker_main(conn: Connection, settings: Settings, model_name: str) -> None:
    use_settings(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
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
    while True:
        task_id, raw_input = channel.runs.get()
        ctx = RunContext(
            task_id,
            settings,
            storage,
            settings.data_dir / "work" / task_id,
            on_progress=partial(channel.send, "progress", task_id),
            cancel_event=channel.cancelled[task_id],
        )
        try:
            result = model.run(model.input_schema.model_validate(raw_input), ctx)
            channel.send("done", task_id, json.dumps(result, ensure_ascii=False), ctx.outputs)
        except TaskFailed as exc:
            _discard(storage, ctx)
            channel.send("failed", task_id, exc.code, exc.message)
        except Exception as exc:
            _discard(storage, ctx)
            log.error("model %s failed on %s:\n%s", model_name, task_id, traceback.format_exc())
            channel.send("failed", task_id, FailCode.MODEL_ERROR, f"{type(exc).__name__}: {exc}")
        finally:
            ctx.close()
            channel.cancelled.pop(task_id, None)


def _discard(storage: Storage, ctx: RunContext) -> None:
    """A failed run keeps no result files: nobody will ever get a link to them."""
    for stored in ctx.outputs:
        storage.delete(stored.kind, stored.token)
