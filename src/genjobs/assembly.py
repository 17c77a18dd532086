"""Wiring one process: the database, and the parts every genjobs process shares, the API
server and a worker alike (registry, storage, wake-ups, the task backend, the runner).
Nothing here knows about HTTP: `genjobs worker` is built from this alone, and the API adds
its own parts (authentication, rate limits) on top."""

from __future__ import annotations

from dataclasses import dataclass

from genjobs.backends import TaskBackend, open_backend
from genjobs.config import Settings
from genjobs.dispatch.events import TaskEvents
from genjobs.files.storage import Storage, open_storage
from genjobs.runtime.registry import ModelRegistry
from genjobs.runtime.runner import Runner
from genjobs.store import keys
from genjobs.store.database import Database
from genjobs.store.lifecycle import OutboxPolicy


def open_database(settings: Settings) -> Database:
    """The database, migrated, with GENJOBS_API_KEY present as an admin key."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    db.migrate()
    if settings.api_key:
        db.run_sync(
            lambda conn: keys.ensure_admin_key(conn, settings.api_key, settings.admin_credits)
        )
    return db


@dataclass
class Core:
    settings: Settings
    db: Database
    registry: ModelRegistry  # every installed model (the API accepts them all)
    storage: Storage
    events: TaskEvents
    backend: TaskBackend  # the task operations, by the database's transaction strategy
    runner: Runner | None  # None without workers (an API node)


def assemble(settings: Settings, db: Database) -> Core:
    events = TaskEvents()
    storage = open_storage(settings)
    registry = ModelRegistry.from_entry_points()
    policy = OutboxPolicy(
        max_attempts=settings.callback_max_attempts,
        retention_ms=int(settings.retention_days * 86_400_000),
    )
    backend = open_backend(db, events, policy, listen_for_work=settings.listen_for_work)
    runner = None
    if settings.workers:
        runner = Runner(
            backend=backend,
            registry=registry.only(settings.worker_models),
            settings=settings,
            events=events,
            storage=storage,
        )
    return Core(settings, db, registry, storage, events, backend, runner)
