"""The client commands of ``genjobs``: run, submit, get, wait, cancel, list, credit, upload,
models. Exit codes: 0 success, 1 the task failed, 2 usage error, 3 API or connection
error, 4 timed out waiting."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from genjobs.client.errors import GenjobsError, TaskTimeoutError
from genjobs.client.formats import FORMATS
from genjobs.client.sync_client import Client
from genjobs.client.types import Task

EXIT_TASK_FAILED, EXIT_API_ERROR, EXIT_TIMEOUT = 1, 3, 4
F = TypeVar("F", bound=Callable[..., Any])


def connection_options(command: F) -> F:
    command = click.option(
        "--api-key", envvar="GENJOBS_API_KEY", default=None, help="[env GENJOBS_API_KEY]"
    )(command)
    return click.option(
        "--base-url", envvar="GENJOBS_BASE_URL", default=None,
        help="[env GENJOBS_BASE_URL, default http://127.0.0.1:8000]",
    )(command)  # fmt: skip


@contextlib.contextmanager
def api(base_url: str | None, api_key: str | None) -> Iterator[Client]:
    """A client whose errors end the command with a message and exit code 3 (4: timeout)."""
    try:
        with Client(base_url=base_url, api_key=api_key) as client:
            yield client
    except GenjobsError as exc:
        click.echo(f"error: {exc.message if exc.code else exc}", err=True)
        sys.exit(EXIT_TIMEOUT if isinstance(exc, TaskTimeoutError) else EXIT_API_ERROR)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _task_json(task: Task) -> dict[str, Any]:
    return task.raw


def parse_input(pairs: tuple[str, ...], inline: str | None, file: Path | None) -> dict[str, Any]:
    """--input JSON, --input-file, then key=value pairs (values parsed as JSON if they are)."""
    data: dict[str, Any] = {}
    if file is not None:
        data.update(json.loads(file.read_text()))
    if inline:
        data.update(json.loads(inline))
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise click.UsageError(f"expected key=value, got {pair!r}")
        try:
            data[key] = json.loads(value)
        except ValueError:
            data[key] = value
    return data


def upload_local_files(client: Client, data: dict[str, Any]) -> dict[str, Any]:
    """Values of URL fields (``*_url``, ``*_urls``) that are local files are uploaded first."""

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and "://" not in value and Path(value).is_file():
            click.echo(f"uploading {value} ...", err=True)
            return client.upload_file(value, "cli").download_url
        return value

    result = dict(data)
    for key, value in data.items():
        if key.endswith("_url"):
            result[key] = resolve(value)
        elif key.endswith("_urls") and isinstance(value, list):
            result[key] = [resolve(item) for item in value]
    return result


def _wait_with_progress(client: Client, task_id: str, timeout: float, quiet: bool) -> Task:
    if quiet or not sys.stderr.isatty():
        return client.wait(task_id, timeout=timeout)
    # Interactive: poll and draw a bar on stderr.
    with click.progressbar(length=100, label=task_id[:12], file=sys.stderr) as bar:
        import time

        deadline = time.monotonic() + timeout
        shown = 0
        while True:
            task = client.get_task(task_id)
            bar.update(task.progress - shown)
            shown = task.progress
            if task.is_finished:
                return task
            if time.monotonic() > deadline:
                raise TaskTimeoutError(task_id, timeout)
            time.sleep(0.5)


def _output(task: Task, as_json: bool, fmt: str) -> None:
    if as_json or fmt == "json":
        _print_json(_task_json(task) if as_json else task.result)
        return
    result = task.result
    if fmt in FORMATS:
        transcript = (result or {}).get("resultObject")
        if not isinstance(transcript, dict) or "words" not in transcript:
            raise click.UsageError(f"--format {fmt} needs a speech-to-text result")
        click.echo(FORMATS[fmt](transcript), nl=False)
        return
    if isinstance(result, dict) and "resultUrls" in result:
        for url in result["resultUrls"]:
            click.echo(url)
    else:
        _print_json(result)


def _finish(task: Task, as_json: bool, fmt: str) -> None:
    if task.state == "fail":
        if as_json:
            _print_json(_task_json(task))
        click.echo(f"task {task.task_id} failed: {task.fail_code}: {task.fail_msg}", err=True)
        sys.exit(EXIT_TASK_FAILED)
    _output(task, as_json, fmt)


input_options = [
    click.argument("pairs", nargs=-1),
    click.option("--input", "inline", default=None, help="The input as a JSON object."),
    click.option("--input-file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
    click.option("--callback-url", default=None, help="callBackUrl for the final record."),
]


def with_input(command: F) -> F:
    for option in reversed(input_options):
        command = option(command)
    return command


@click.command()
@click.argument("model")
@with_input
@click.option("--json", "as_json", is_flag=True, help="Print the whole task record as JSON.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "json", *FORMATS]),
    default="auto",
    help="Transcripts: txt, srt or vtt.",
)
@click.option("--timeout", type=float, default=3600.0, show_default=True)
@connection_options
def run(
    model: str,
    pairs: tuple[str, ...],
    inline: str | None,
    input_file: Path | None,
    callback_url: str | None,
    as_json: bool,
    fmt: str,
    timeout: float,
    base_url: str | None,
    api_key: str | None,
) -> None:
    """Run MODEL with an input (key=value ...) and print its result."""
    data = parse_input(pairs, inline, input_file)
    with api(base_url, api_key) as client:
        task_id = client.create_task(model, upload_local_files(client, data), callback_url)
        task = _wait_with_progress(client, task_id, timeout, as_json)
        _finish(task, as_json, fmt)


@click.command()
@click.argument("model")
@with_input
@connection_options
def submit(
    model: str,
    pairs: tuple[str, ...],
    inline: str | None,
    input_file: Path | None,
    callback_url: str | None,
    base_url: str | None,
    api_key: str | None,
) -> None:
    """Create a task and print its taskId (without waiting)."""
    data = parse_input(pairs, inline, input_file)
    with api(base_url, api_key) as client:
        click.echo(client.create_task(model, upload_local_files(client, data), callback_url))


@click.command()
@click.argument("task_id")
@connection_options
def get(task_id: str, base_url: str | None, api_key: str | None) -> None:
    """Print a task's record."""
    with api(base_url, api_key) as client:
        _print_json(_task_json(client.get_task(task_id)))


@click.command()
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole task record as JSON.")
@click.option("--format", "fmt", type=click.Choice(["auto", "json", *FORMATS]), default="auto")
@click.option("--timeout", type=float, default=3600.0, show_default=True)
@connection_options
def wait(
    task_id: str, as_json: bool, fmt: str, timeout: float, base_url: str | None, api_key: str | None
) -> None:
    """Wait for a task to finish and print its result."""
    with api(base_url, api_key) as client:
        task = _wait_with_progress(client, task_id, timeout, as_json)
        _finish(task, as_json, fmt)


@click.command()
@click.argument("task_id")
@connection_options
def cancel(task_id: str, base_url: str | None, api_key: str | None) -> None:
    """Cancel a task."""
    with api(base_url, api_key) as client:
        task = client.cancel(task_id)
        if task.is_finished:
            click.echo(f"{task.task_id} {task.state} {task.fail_code}".rstrip())
        else:  # a running task stops at its model's next cancellation check
            click.echo(f"{task.task_id} cancel requested (still {task.state})")


@click.command("list")
@click.option("--state", default=None)
@click.option("--model", default=None)
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@connection_options
def list_tasks(
    state: str | None,
    model: str | None,
    limit: int,
    as_json: bool,
    base_url: str | None,
    api_key: str | None,
) -> None:
    """List tasks, newest first."""
    with api(base_url, api_key) as client:
        page = client.list_tasks(state=state, model=model, limit=limit)
        if as_json:
            _print_json({"items": [t.raw for t in page.items], "nextCursor": page.next_cursor})
            return
        for task in page.items:
            click.echo(f"{task.task_id}\t{task.state}\t{task.progress:>3}%\t{task.model}")


@click.command()
@connection_options
def credit(base_url: str | None, api_key: str | None) -> None:
    """Print the key's remaining credits."""
    with api(base_url, api_key) as client:
        click.echo(f"{client.credit():g}")


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--upload-path", default="cli", show_default=True)
@click.option("--name", "file_name", default=None)
@connection_options
def upload(
    path: Path, upload_path: str, file_name: str | None, base_url: str | None, api_key: str | None
) -> None:
    """Upload a file and print its download link."""
    with api(base_url, api_key) as client:
        click.echo(client.upload_file(path, upload_path, file_name).download_url)


@click.command()
@click.argument("name", required=False)
@connection_options
def models(name: str | None, base_url: str | None, api_key: str | None) -> None:
    """List models, or print one model's input schema."""
    with api(base_url, api_key) as client:
        catalogue = client.models()
    if name:
        chosen = [m for m in catalogue if m["name"] == name]
        if not chosen:
            click.echo(f"error: no model named {name}", err=True)
            sys.exit(EXIT_API_ERROR)
        _print_json(chosen[0])
        return
    for model in catalogue:
        click.echo(f"{model['name']}\t{model['price']:g} credits\t{model['description'][:70]}")


def register(group: click.Group) -> None:
    for command in (run, submit, get, wait, cancel, list_tasks, credit, upload, models):
        group.add_command(command)
