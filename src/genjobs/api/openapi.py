"""The OpenAPI document, completed with what every endpoint can answer besides success.

FastAPI documents an operation's success and its 422; genjobs answers every error in the
kie envelope, with the status equal to ``code``, so the document lists those answers for
each operation, and the bearer key where one is needed.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ENVELOPE_SCHEMA: dict[str, Any] = {
    "title": "Envelope",
    "type": "object",
    "required": ["code", "msg", "message", "data"],
    "properties": {
        "code": {"type": "integer", "description": "Equals the HTTP status."},
        "msg": {"type": "string"},
        "message": {"type": "string", "description": "The same text as msg."},
        "data": {"description": "The answer; null on errors."},
    },
}
_ENVELOPE_REF = {"$ref": "#/components/schemas/Envelope"}
ERRORS = {
    "401": "Missing or invalid API key (or an invalid or expired file link)",
    "404": "Not found, or owned by another key",
    "413": "Request body over its limit (GENJOBS_MAX_BODY_BYTES, GENJOBS_UPLOAD_MAX_BYTES)",
    "422": "Validation error: the message names the field and the rule",
    "429": "Rate limited (Retry-After)",
    "455": "Database unavailable (Retry-After)",
    "500": "Server error",
    "507": "Storage full (Retry-After)",
}
# Explicit OpenAPI links: where an answer's id is used next. Answers are enveloped (the id
# is under /data), which tools that infer links from names cannot see.
_KEY_ID = "$response.body#/data/keyId"
LINKS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/v1/admin/keys", "post"): {
        "SetCredits": {
            "operationRef": "#/paths/~1api~1v1~1admin~1keys~1credits/post",
            "requestBody": {"keyId": _KEY_ID, "credits": 1},
        },
        "Revoke": {
            "operationRef": "#/paths/~1api~1v1~1admin~1keys~1revoke/post",
            "requestBody": {"keyId": _KEY_ID},
        },
    },
}
# Paths that take no bearer key: health, and file links (they carry their own signature).
_KEYLESS_PREFIXES = ("/healthz", "/files/")


def complete(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Envelope"] = ENVELOPE_SCHEMA
    components.setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if (path, method) in LINKS:
                responses["200"]["links"] = LINKS[path, method]
            for status, description in ERRORS.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": _ENVELOPE_REF}},
                }
            if not path.startswith(_KEYLESS_PREFIXES):
                operation["security"] = [{"bearer": []}]
    return document


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
