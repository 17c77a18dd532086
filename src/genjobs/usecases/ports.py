"""What the use cases need from the process they run in. The API's Services satisfies it;
nothing here knows about HTTP."""

from __future__ import annotations

from typing import Protocol

from genjobs.config import Settings
from genjobs.dispatch.base import Dispatcher
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage
from genjobs.runtime.registry import ModelRegistry
from genjobs.store.database import Database
from genjobs.store.group_commit import GroupCommit
from genjobs.store.lifecycle import OutboxPolicy


class Ports(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def writes(self) -> GroupCommit: ...
    @property
    def registry(self) -> ModelRegistry: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def dispatcher(self) -> Dispatcher: ...
    @property
    def events(self) -> TaskEvents: ...
    @property
    def policy(self) -> OutboxPolicy: ...
