"""The messages between the server and its worker processes, and how they cross the pipe.

Every message is a frozen dataclass; receivers dispatch on its type with ``match``.

Server -> worker: ``RunTask`` and ``CancelTask``.
Worker -> server: ``Ready`` or ``SetupFailed`` once the model has loaded (or not), then per
task any number of ``Progress`` and one ``Done`` or ``Failed``. A result's files travel in
its ``Done``: a worker saves them to storage itself and the server records them with the
outcome (or deletes them when the run was canceled). A model that kills its process sends
nothing more: the server sees the pipe close.

Besides those, the server's end of a pipe puts two events of its own in the worker's
queue (they never cross the pipe): ``WorkerDied`` when the pipe closed, and
``CancelNoted`` when the runner asked the task to stop, so whoever waits on the queue
re-reads the cancel deadline.

Framing is ``multiprocessing.Connection``'s, which the worker's ``send_bytes`` and
``recv_bytes`` speak: a 4-byte big-endian signed length, or -1 and then an 8-byte length
for messages of 2 GiB or more, followed by the body. The body is a pickle of the message's
type name and its fields, a plain tuple: pickling the dataclass itself cost 2.5-4 us on
each end of every message, this tuple about 1 us (measured), on the event loop's hot
path. Plain pickle, not ``Connection.send``: its ForkingPickler (which can pass sockets
and file descriptors) copies a dispatch table for every message. Pickle is safe here:
both ends are our own processes, started from the same code.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args

from genjobs.files.storage import StoredFile


# --- server -> worker -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RunTask:
    """Run one task; ``input`` is the request's ``input`` object, not yet validated."""

    task_id: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CancelTask:
    """Stop ``task_id`` if it is still the one running (a late cancel is dropped)."""

    task_id: str


# --- worker -> server -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ready:
    """The model has loaded: the process takes tasks."""


@dataclass(frozen=True, slots=True)
class SetupFailed:
    """The model could not be loaded; the process exits."""

    reason: str


@dataclass(frozen=True, slots=True)
class Progress:
    task_id: str
    percent: int


@dataclass(frozen=True, slots=True)
class Done:
    """The model returned: its result as JSON text, and the files it saved."""

    task_id: str
    result_json: str
    outputs: tuple[StoredFile, ...]


@dataclass(frozen=True, slots=True)
class Failed:
    """The run failed (its files already deleted); ``message`` is safe to show clients."""

    task_id: str
    code: str
    message: str


# --- added by the server's end of the pipe, never sent --------------------------------
@dataclass(frozen=True, slots=True)
class WorkerDied:
    """The pipe closed: the process is gone (``exit_code`` None if it would not exit)."""

    exit_code: int | None


@dataclass(frozen=True, slots=True)
class CancelNoted:
    """The running task was asked to stop: wake whoever waits, to re-read its deadline."""


ToWorker = RunTask | CancelTask
FromWorker = Ready | SetupFailed | Progress | Done | Failed
WorkerEvent = FromWorker | WorkerDied | CancelNoted  # what a worker's queue holds

# --- encoding and framing ---------------------------------------------------------------
_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")
_SHORT_MAX = 0x7FFFFFFF
# A message's type by the name it crosses under, per direction: a message sent the wrong
# way cannot be decoded.
_TO_WORKER: dict[str, Callable[..., ToWorker]] = {
    kind.__name__: kind for kind in get_args(ToWorker)
}
_FROM_WORKER: dict[str, Callable[..., FromWorker]] = {
    kind.__name__: kind for kind in get_args(FromWorker)
}


def encode(message: ToWorker | FromWorker) -> bytes:
    """The message's body: what a worker hands to ``Connection.send_bytes``."""
    fields = [getattr(message, name) for name in message.__match_args__]
    return pickle.dumps((type(message).__name__, *fields), pickle.HIGHEST_PROTOCOL)


def decode_to_worker(body: bytes) -> ToWorker:
    """A message from the server, read by a worker with ``Connection.recv_bytes``."""
    name, *fields = pickle.loads(body)
    return _TO_WORKER[name](*fields)


def decode_from_worker(body: bytes | memoryview) -> FromWorker:
    name, *fields = pickle.loads(body)
    return _FROM_WORKER[name](*fields)


def frame(message: ToWorker | FromWorker) -> bytes:
    """The message with its length header: what the server writes to a pipe's socket."""
    data = encode(message)
    if len(data) > _SHORT_MAX:
        return _SHORT.pack(-1) + _LONG.pack(len(data)) + data
    return _SHORT.pack(len(data)) + data


class FrameReader:
    """Cuts a byte stream into messages: bytes arrive in pieces of any size (a large
    result crosses in many reads while its worker writes it slowly), so a message is
    decoded only once all of it is here."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[FromWorker]:
        """Add bytes; returns the messages they completed, in order."""
        buffer = self._buffer
        buffer += data
        messages: list[FromWorker] = []
        while len(buffer) >= _SHORT.size:
            (size,) = _SHORT.unpack_from(buffer)
            header = _SHORT.size
            if size == -1:
                if len(buffer) < _SHORT.size + _LONG.size:
                    break
                (size,) = _LONG.unpack_from(buffer, _SHORT.size)
                header += _LONG.size
            if len(buffer) < header + size:
                break  # the rest of this message is still on its way
            messages.append(decode_from_worker(memoryview(buffer)[header : header + size]))
            del buffer[: header + size]
        return messages
