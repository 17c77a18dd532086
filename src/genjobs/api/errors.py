"""Every error leaves as the kie envelope, with a message naming the field and the rule."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from genjobs.api.envelope import failure
from genjobs.core.errors import (
    ApiError,
    Code,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    Refused,
    describe_validation_errors,
)
from genjobs.store.outage import UNAVAILABLE_ERRORS, Outage, classify

log = logging.getLogger("genjobs.api")
OUTAGE_RETRY_AFTER_S = "5"


# The kie code of each refusal of the domain (core/errors.py).
REFUSAL_CODES: dict[type[Refused], Code] = {
    InvalidInput: Code.VALIDATION,
    NotFound: Code.NOT_FOUND,
    InsufficientCredits: Code.INSUFFICIENT_CREDITS,
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return failure(exc.code, exc.message, exc.headers)

    @app.exception_handler(Refused)
    async def refused(_request: Request, exc: Refused) -> JSONResponse:
        return failure(REFUSAL_CODES[type(exc)], exc.message)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return failure(Code.VALIDATION, describe_validation_errors(exc.errors()))

    @app.exception_handler(ValidationError)
    async def model_invalid(_request: Request, exc: ValidationError) -> JSONResponse:
        return failure(Code.VALIDATION, describe_validation_errors(exc.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = exc.status_code
        message = str(exc.detail)
        headers = exc.headers
        if code == 405:
            message = "method not allowed on this endpoint"
            headers = {"Allow": allowed_methods(request)}
        if code == 400:  # a body FastAPI could not parse: kie calls that a validation error
            code, message = Code.VALIDATION, f"body: {message}"
        return failure(code, message, headers)

    async def outage(request: Request, exc: Exception) -> JSONResponse:
        # Registered for these classes by name (not only through the catch-all below), so
        # Starlette answers them in its ExceptionMiddleware: the catch-all runs in
        # ServerErrorMiddleware, which re-raises after answering and makes the server drop
        # the keep-alive connection.
        kind = classify(exc)
        if kind is None:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return failure(Code.SERVER_ERROR, "internal server error")
        log.warning("%s on %s %s: %s", kind.value, request.method, request.url.path, exc)
        headers = {"Retry-After": OUTAGE_RETRY_AFTER_S}
        if kind is Outage.STORAGE_FULL:
            return failure(
                Code.STORAGE_FULL, "storage full: the server's disk is full; retry later", headers
            )
        return failure(Code.UNAVAILABLE, "database unavailable: retry in a few seconds", headers)

    for error_class in (OSError, *UNAVAILABLE_ERRORS):
        app.add_exception_handler(error_class, outage)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return failure(Code.SERVER_ERROR, "internal server error")


def allowed_methods(request: Request) -> str:
    """The 405's Allow: the methods of every route at this path. Starlette names only those
    of the first route that matched the path, and a path may have several (GET and POST
    of /api/v1/admin/keys are two routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))
