"""The client commands of ``genjobs``: run, submit, get, wait, cancel, list, credit, upload,
models. Exit codes: 0 success, 1 the task failed, 2 usage error, 3 API or connection
error, 4 timed out waiting."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
        # Code 0 is the SDK's own (unreachable, timed out), not one the server answered.
        click.echo(f"error: {exc if exc.code else exc.message}", err=True)
        sys.exit(EXIT_TIMEOUT if isinstance(exc, TaskTimeoutError) else EXIT_API_ERROR)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _task_json(task: Task) -> dict[str, Any]:
    return task.raw


# The fields of a kie createTask body; an --input-file may hold a whole body.
CREATE_TASK_FIELDS = frozenset({"model", "input", "callBackUrl", "progressCallBackUrl"})


@dataclass(frozen=True)
class TaskRequest:
    model: str
    input: dict[str, Any]
    callback_url: str | None
    progress_callback_url: str | None


def task_request(
    model: str | None,
    pairs: tuple[str, ...],
    inline: str | None,
    file: Path | None,
    callback_url: str | None,
) -> TaskRequest:
    """The task to create from the command line: MODEL, --input-file (an input object or a
    whole createTask body), --input, key=value pairs and --callback-url."""
    if model is not None and "=" in model:  # MODEL left out: click took the first pair
        pairs = (model, *pairs)
        model = None
    body = read_input_file(file) if file is not None else {"input": {}}
    return TaskRequest(
        model=_choose_model(model, body.get("model"), file),
        input={**body["input"], **parse_input(pairs, inline)},
        callback_url=callback_url or _optional_str(body, "callBackUrl", file),
        progress_callback_url=_optional_str(body, "progressCallBackUrl", file),
    )


def read_input_file(file: Path) -> dict[str, Any]:
    """The file as a createTask body; a bare input object becomes ``{"input": ...}``."""
    data = _json_object(file.read_text(), f"--input-file {file}")
    if not _is_create_task_body(data):
        return {"input": data}
    unknown = sorted(set(data) - CREATE_TASK_FIELDS)
    if unknown:
        raise click.UsageError(
            f"--input-file {file}: a createTask body has no field {', '.join(unknown)} "
            f"(its fields: {', '.join(sorted(CREATE_TASK_FIELDS))})"
        )
    return data


def _is_create_task_body(data: dict[str, Any]) -> bool:
    # A model's input may in principle have a field named "input"; a body has it as an
    # object beside kie's required "model", or beside nothing but createTask's own fields.
    return isinstance(data.get("input"), dict) and (
        "model" in data or data.keys() <= CREATE_TASK_FIELDS
    )


def _choose_model(given: str | None, in_file: Any, file: Path | None) -> str:
    if in_file is not None and not isinstance(in_file, str):
        raise click.UsageError(f"--input-file {file}: model must be a string")
    if given and in_file and given != in_file:
        raise click.UsageError(
            f"MODEL {given} conflicts with the model in --input-file {file} ({in_file}): "
            "leave MODEL out or make them agree"
        )
    chosen = given or in_file
    if not chosen:
        raise click.UsageError(
            "missing MODEL: give it, or an --input-file with a createTask body naming it"
        )
    return chosen


def _optional_str(body: dict[str, Any], field: str, file: Path | None) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise click.UsageError(f"--input-file {file}: {field} must be a string")
    return value or None


def _json_object(text: str, source: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.UsageError(f"{source}: not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise click.UsageError(f"{source}: expected a JSON object")
    return value


def parse_input(pairs: tuple[str, ...], inline: str | None) -> dict[str, Any]:
    """--input JSON, then key=value pairs (values parsed as JSON if they are)."""
    data = _json_object(inline, "--input") if inline else {}
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
    """Wait, showing progress on stderr: a bar on a terminal, plain lines in logs (CI)."""
    if quiet:
        return client.wait(task_id, timeout=timeout)
    if not sys.stderr.isatty():
        return client.wait(task_id, timeout=timeout, on_update=ProgressLines())
    with click.progressbar(length=100, label=task_id[:12], file=sys.stderr) as bar:
        shown = 0

        def advance(task: Task) -> None:
            nonlocal shown
            bar.update(task.progress - shown)
            shown = task.progress

        return client.wait(task_id, timeout=timeout, on_update=advance)


class ProgressLines:
    """``task <id>: generating 40%`` lines: one on each change of state, and on a change of
    progress at most once per ``interval_s``, so a log shows progress without a flood."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self._shown: tuple[str, int] | None = None
        self._shown_at = -interval_s

    def __call__(self, task: Task) -> None:
        now = time.monotonic()
        state_changed = self._shown is None or task.state != self._shown[0]
        progressed = self._shown is not None and task.progress != self._shown[1]
        if state_changed or (progressed and now - self._shown_at >= self.interval_s):
            self._shown, self._shown_at = (task.state, task.progress), now
            click.echo(f"task {task.task_id}: {_progress_text(task)}", err=True)


def _progress_text(task: Task) -> str:
    return task.state if task.is_finished else f"{task.state} {task.progress}%"


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
    click.argument("model", required=False),
    click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]..."),
    click.option("--input", "inline", default=None, help="The input as a JSON object."),
    click.option(
        "--input-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help='A JSON file: the input object, or a whole createTask body {"model", "input", '
        '"callBackUrl", "progressCallBackUrl"}. From a body, its model is used when MODEL '
        "is left out (a different MODEL is an error) and its callBackUrl unless "
        "--callback-url is given. --input and key=value pairs override its input's keys.",
    ),
    click.option("--callback-url", default=None, help="callBackUrl for the final record."),
]


def with_input(command: F) -> F:
    for option in reversed(input_options):
        command = option(command)
    return command


@click.command()
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
    model: str | None,
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
    """Run MODEL with an input (key=value ...) and print its result. MODEL may be left
    out when --input-file holds a createTask body that names it.

    Progress goes to stderr: a bar on a terminal, otherwise a line per change (at most about
    one a second); none with --json."""
    request = task_request(model, pairs, inline, input_file, callback_url)
    with api(base_url, api_key) as client:
        task_id = _create(client, request)
        task = _wait_with_progress(client, task_id, timeout, as_json)
        _finish(task, as_json, fmt)


def _create(client: Client, request: TaskRequest) -> str:
    return client.create_task(
        request.model,
        upload_local_files(client, request.input),
        request.callback_url,
        request.progress_callback_url,
    )


@click.command()
@with_input
@connection_options
def submit(
    model: str | None,
    pairs: tuple[str, ...],
    inline: str | None,
    input_file: Path | None,
    callback_url: str | None,
    base_url: str | None,
    api_key: str | None,
) -> None:
    """Create a task of MODEL and print its taskId (without waiting). MODEL may be left out
    when --input-file holds a createTask body that names it."""
    request = task_request(model, pairs, inline, input_file, callback_url)
    with api(base_url, api_key) as client:
        click.echo(_create(client, request))


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
