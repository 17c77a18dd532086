"""Helpers for driving the dashboard in Debian's chromium with Playwright: the browser's
flags, signing in through the page, and catching every console error, page error and
unexpected failed request."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Page, Response, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# Chromium logs every 4xx/5xx answer as this console error; answers are checked one by one
# in on_response instead, where a test can say which ones it provokes.
FAILED_LOAD = "Failed to load resource: the server responded with a status of"


class PageProblems:
    """What went wrong in a page: console errors, uncaught exceptions, and HTTP errors
    other than those the test expects (allow())."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.allowed: list[tuple[int, str]] = []

    def watch(self, page: Page) -> None:
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("response", self.on_response)

    def allow(self, status: int, path: str) -> None:
        """The test provokes this answer (e.g. 422 from createTask) on purpose."""
        self.allowed.append((status, path))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(FAILED_LOAD):
            self.problems.append(f"console error: {message.text}")

    def on_response(self, response: Response) -> None:
        if response.status < 400:
            return
        if not any(response.status == s and path in response.url for s, path in self.allowed):
            request = response.request
            self.problems.append(f"HTTP {response.status}: {request.method} {request.url}")


def sign_in(page: Page, base_url: str, key: str, route: str = "#/tasks") -> None:
    """Open the dashboard at `route` and sign in through the form, as a person does."""
    page.goto(f"{base_url}/ui/{route}")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
