"""The asynchronous client: the same methods as ``Client``, awaitable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from genjobs.client import core
from genjobs.client.errors import NotFoundError, TaskTimeoutError
from genjobs.client.types import Task, TaskPage, UploadedFile


class AsyncClient:
    """``AsyncClient(base_url=None, api_key=None)``; defaults from the environment."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = core.DEFAULT_TIMEOUT_S,
    ) -> None:
        self.base_url, headers = core.settings(base_url, api_key)
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise core.connection_error(exc, self.base_url) from exc
        return core.unwrap(response)

    # --- tasks ----------------------------------------------------------------------
    async def create_task(
        self,
        model: str,
        input: dict[str, Any],
        callback_url: str | None = None,
        progress_callback_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        body = core.create_body(model, input, callback_url, progress_callback_url)
        data = await self._call("POST", "/api/v1/jobs/createTask", json=body, headers=headers)
        return core.created_task_id(data)

    async def get_task(self, task_id: str) -> Task:
        return Task.from_record(
            await self._call("GET", "/api/v1/jobs/recordInfo", params={"taskId": task_id})
        )

    async def wait(
        self,
        task_id: str,
        timeout: float = 600.0,
        poll_interval: float = 0.5,
        on_update: Callable[[Task], object] | None = None,
    ) -> Task:
        """The task once it is finished (success or fail); TaskTimeoutError after ``timeout``.
        ``on_update`` is called with each record seen on the way (progress displays)."""
        deadline = time.monotonic() + timeout
        notify = on_update or core.ignore_update
        task = await self._follow_stream(task_id, deadline, notify)
        if task is not None and task.is_finished:
            return task
        for delay in core.poll_delays(poll_interval):
            task = await self.get_task(task_id)
            notify(task)
            if task.is_finished:
                return task
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TaskTimeoutError(task_id, timeout)
            await asyncio.sleep(min(delay, remaining))
        raise AssertionError("unreachable")

    async def _follow_stream(
        self, task_id: str, deadline: float, notify: Callable[[Task], object]
    ) -> Task | None:
        """Follow the SSE stream until a final state; None when the server has none."""
        try:
            async with self._http.stream(
                "GET",
                "/api/v1/jobs/stream",
                params={"taskId": task_id},
                timeout=httpx.Timeout(max(1.0, deadline - time.monotonic()), connect=10.0),
            ) as response:
                if core.stream_unavailable(response.status_code):
                    if response.status_code == 404:
                        await self.get_task(task_id)  # a real 404 raises NotFoundError here
                    return None
                if response.status_code != 200:
                    await response.aread()
                    core.unwrap(response)
                task = None
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    record = core.parse_sse_data(line)
                    task = Task.from_record(record)
                    notify(task)
                    if task.is_finished or time.monotonic() > deadline:
                        break
                return task
        except NotFoundError:
            raise
        except httpx.HTTPError:
            return None  # stream broke or timed out: polling takes over

    async def run(
        self,
        model: str,
        input: dict[str, Any],
        callback_url: str | None = None,
        progress_callback_url: str | None = None,
        timeout: float = 600.0,
    ) -> Task:
        """Create a task and wait for it."""
        task_id = await self.create_task(model, input, callback_url, progress_callback_url)
        return await self.wait(task_id, timeout=timeout)

    async def cancel(self, task_id: str) -> Task:
        return Task.from_record(
            await self._call("POST", "/api/v1/jobs/cancel", json={"taskId": task_id})
        )

    async def list_tasks(
        self,
        state: str | None = None,
        model: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> TaskPage:
        params = {k: v for k, v in {"state": state, "model": model, "cursor": cursor}.items() if v}
        data = await self._call("GET", "/api/v1/jobs/list", params={**params, "limit": limit})
        return TaskPage([Task.from_record(r) for r in data["items"]], data.get("nextCursor"))

    async def iter_tasks(
        self, state: str | None = None, model: str | None = None
    ) -> AsyncIterator[Task]:
        """Every task (newest first), page after page."""
        cursor = None
        while True:
            page = await self.list_tasks(state=state, model=model, limit=100, cursor=cursor)
            for task in page.items:
                yield task
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    # --- account, files, models ---------------------------------------------------------
    async def credit(self) -> float:
        return float(await self._call("GET", "/api/v1/chat/credit"))

    async def upload_file(
        self, source: str | Path | bytes, upload_path: str, file_name: str | None = None
    ) -> UploadedFile:
        files, data = core.upload_parts(source, upload_path, file_name)
        return UploadedFile.from_data(
            await self._call("POST", "/api/file-stream-upload", files=files, data=data)
        )

    async def download_url(self, url: str) -> str:
        return str(await self._call("POST", "/api/v1/common/download-url", json={"url": url}))

    async def download(self, url: str, dest: str | Path) -> Path:
        """Save a result or upload link; returns the file's path. A ``dest`` string ending
        with a slash (a Path cannot), or an existing folder, is a folder (made if missing;
        the file is named as the server names it, else by the URL); any other ``dest`` is
        the file's path (its folders made if missing)."""
        try:
            response = await self._http.send(
                core.download_request(self._http, url), stream=True, follow_redirects=True
            )
            try:
                return await self._save(response, dest)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise core.connection_error(exc, url) from exc

    @staticmethod
    async def _save(response: httpx.Response, dest: str | Path) -> Path:
        if response.status_code != 200:
            await response.aread()
            core.unwrap(response)
        target = core.download_target(dest, str(response.url), response.headers)
        with core.partial_file(target) as out:
            async for chunk in response.aiter_bytes():
                out.write(chunk)
        return target

    async def models(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self._call("GET", "/api/v1/models")
        return result
