"""The web dashboard and playground: static files served at /ui, talking to the JSON API
from the browser with the API key the user signs in with."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")


def install(app: FastAPI) -> None:
    """Serve the dashboard at /ui/ and send / there. Mounted after the API routes, so no
    API request is matched against it first."""

    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.add_api_route("/", home, include_in_schema=False)
    app.mount("/ui", StaticFiles(directory=STATIC_DIR, html=True), name="ui")
