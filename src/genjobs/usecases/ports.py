"""What the use cases need from the process they run in. The API's Services satisfies it;
nothing here knows about HTTP."""

from __future__ import annotations

from typing import Protocol

from genjobs.backends.base import TaskBackend
from genjobs.config import Settings
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage
from genjobs.runtime.registry import ModelRegistry
from genjobs.store.database import Database


class Ports(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def backend(self) -> TaskBackend: ...
    @property
    def registry(self) -> ModelRegistry: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def events(self) -> TaskEvents: ...
