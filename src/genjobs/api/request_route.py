"""A route for endpoints that take the ``Request`` and return the ``Response`` themselves.

FastAPI's handler around an endpoint resolves parameters and dependencies, opens two
exit stacks and inspects the return value: on the routes clients call most (createTask
and recordInfo) that costs more than the endpoint's own work. These endpoints check the
key and the input by hand with the same rules and messages; FastAPI's documented
extension point (``APIRoute.get_route_handler``) hands them the request directly. The
route keeps its OpenAPI entry (described through ``openapi_extra``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class RequestRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint
