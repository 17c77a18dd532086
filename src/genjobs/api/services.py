"""The parts one server process shares between its routers and background loops."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from genjobs.api.auth import Authenticator
from genjobs.api.ratelimit import RateLimiter
from genjobs.backends import TaskBackend
from genjobs.config import Settings
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage
from genjobs.runtime.registry import ModelRegistry
from genjobs.runtime.runner import Runner
from genjobs.store.database import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    registry: ModelRegistry
    storage: Storage
    events: TaskEvents
    auth: Authenticator
    rate_limiter: RateLimiter
    backend: TaskBackend  # the task operations (creates, claims, outcomes, reads)
    runner: Runner | None = None


async def services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain `def` dependency in a thread pool.
    value: Services = request.app.state.services
    return value
