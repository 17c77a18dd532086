"""The application factory: one FastAPI app with its background loops (embedded runner,
callback delivery, retention) started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from genjobs import __version__
from genjobs.api import openapi
from genjobs.api.auth import Authenticator
from genjobs.api.body_limit import BodyLimit, upload_limits
from genjobs.api.errors import install_error_handlers
from genjobs.api.ratelimit import RateLimiter
from genjobs.api.routers import account, admin, files, jobs, models, observe, system
from genjobs.api.services import Services
from genjobs.assembly import assemble, open_database
from genjobs.config import Settings
from genjobs.files.retention import purge_forever
from genjobs.store.database import Database
from genjobs.ui import install as install_dashboard
from genjobs.webhooks.delivery import Deliverer

log = logging.getLogger("genjobs")
SHUTDOWN_WAIT_S = 10.0


def build_services(settings: Settings, db: Database) -> Services:
    core = assemble(settings, db)
    return Services(
        settings=core.settings,
        db=core.db,
        registry=core.registry,
        storage=core.storage,
        events=core.events,
        auth=Authenticator(db),
        rate_limiter=RateLimiter(settings.rate_limit, settings.rate_window_s),
        backend=core.backend,
        runner=core.runner,
    )


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = open_database(settings)
        svc = build_services(settings, db)
        app.state.services = svc
        loops = [
            asyncio.create_task(Deliverer(db, settings, svc.events).run(), name="callbacks"),
            asyncio.create_task(purge_forever(db, svc.storage), name="retention"),
        ]
        if svc.runner is not None:
            loops.append(asyncio.create_task(svc.runner.run(), name="runner"))
            listener = svc.backend.start_wakeups()
            if listener is not None:
                loops.append(listener)
        log.info(
            "genjobs %s serving %s on %s", __version__, svc.registry.names(), settings.base_url
        )
        # Everything made so far (modules, app, services: ~100k objects) lives as long as
        # the server. Frozen, the garbage collector stops re-scanning it: a full
        # collection takes microseconds instead of the ~50 ms (measured) that every
        # request in flight would wait behind.
        gc.freeze()
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()
            # Bounded: a loop that failed to stop must not keep the server from stopping.
            _, stuck = await asyncio.wait(loops, timeout=SHUTDOWN_WAIT_S)
            for loop in stuck:
                log.error(
                    "background loop %s did not stop within %g s", loop.get_name(), SHUTDOWN_WAIT_S
                )
            if svc.runner is not None:
                await svc.runner.shutdown()
            db.dispose()

    app = FastAPI(
        title="genjobs",
        version=__version__,
        summary="Generative-AI models as asynchronous jobs, compatible with the kie.ai Jobs API.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        default_limit=settings.max_body_bytes,
        by_path=upload_limits(settings.upload_max_bytes),
    )
    # The routers' routes are added to the app itself, not through include_router: FastAPI
    # nests an included router and matches the path twice per request (about 12 us of
    # recordInfo's 60). The routes carry their full paths and tags, and the OpenAPI
    # document is the same either way. Jobs first: the routes clients poll match soonest.
    routers = (jobs, observe, files, account, models, admin, system)
    for router in (module.router for module in routers):
        app.router.routes.extend(router.routes)
    openapi.install(app)
    install_dashboard(app)
    return app
