"""The web dashboard and playground: static files served at /ui, talking to the JSON API
from the browser with the API key the user signs in with."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).with_name("static")


class RevalidatedFiles(StaticFiles):
    """Static files the browser checks with the server on every load (a 304 while they
    are unchanged). Without it a browser may keep a module of the previous version for
    days after an upgrade (heuristic caching) and run it with the new ones."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        return response


def install(app: FastAPI) -> None:
    """Serve the dashboard at /ui/ and send / there. Mounted after the API routes, so no
    API request is matched against it first."""

    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.add_api_route("/", home, include_in_schema=False)
    app.mount("/ui", RevalidatedFiles(directory=STATIC_DIR, html=True), name="ui")
