"""The ``genjobs`` command: the service (serve, worker, keys) and the client commands."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from genjobs import __version__
from genjobs.client.commands import register as register_client_commands
from genjobs.config import Settings, use_settings

if TYPE_CHECKING:
    from genjobs.store.database import Database


def _settings(**overrides: Any) -> Settings:
    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        return use_settings(Settings(**values))
    except ValidationError as exc:  # a bad GENJOBS_* variable: name it, without a traceback
        problems = "; ".join(_setting_problem(error["loc"], error["msg"]) for error in exc.errors())
        raise click.ClickException(f"invalid settings: {problems}") from exc
    except SettingsError as exc:  # e.g. a JSON setting that is not JSON
        raise click.ClickException(f"invalid settings: {exc}") from exc


def _setting_problem(location: tuple[int | str, ...], message: str) -> str:
    """E.g. ``GENJOBS_CONCURRENCY[genjobs/echo]: Input should be greater than 0``."""
    field, *inside = location
    return f"GENJOBS_{str(field).upper()}{''.join(f'[{part}]' for part in inside)}: {message}"


def _check_models(settings: Settings) -> None:
    """Refuse, before starting, settings that name models which are not installed."""
    from genjobs.runtime.registry import ModelRegistry

    try:
        ModelRegistry.from_entry_points().check_settings(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _check_storage(settings: Settings) -> None:
    """Refuse, before starting, a bucket that cannot be used (a local disk always can)."""
    if not settings.storage_url:
        return
    from genjobs.files.storage import StorageConfigError, open_storage

    try:
        open_storage(settings)
    except StorageConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(__version__, prog_name="genjobs")
def main() -> None:
    """genjobs: generative-AI models as asynchronous jobs behind a kie.ai-compatible API."""


def _model_list(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> list[str] | None:
    return [name.strip() for name in value.split(",") if name.strip()] if value else None


models_option = click.option(
    "--models",
    "worker_models",
    callback=_model_list,
    metavar="MODEL[,MODEL...]",
    help="Only these models run on this machine's workers "
    "[env GENJOBS_WORKER_MODELS, a JSON list; default: every installed model].",
)


@main.command()
@click.option("--host", default=None, help="Interface to listen on [127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [8000].")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Database, uploads and results [./genjobs-data].",
)
@click.option(
    "--no-workers", is_flag=True, help="Serve the API only; run `genjobs worker` elsewhere."
)
@models_option
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    no_workers: bool,
    worker_models: list[str] | None,
) -> None:
    """Run the API with embedded workers (foreground)."""
    import uvicorn

    from genjobs.api.app import create_app
    from genjobs.assembly import open_database
    from genjobs.store import keys

    settings = _settings(
        host=host,
        port=port,
        data_dir=data_dir,
        workers=False if no_workers else None,
        worker_models=worker_models,
    )
    _check_models(settings)
    _check_storage(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db = open_database(settings)
    if not settings.api_key and db.run_sync(keys.count_active_admins) == 0:
        _key_id, raw_key = db.run_sync(
            lambda conn: keys.create_key(
                conn, name="admin (first start)", credits=settings.admin_credits, is_admin=True
            )
        )
        click.echo(f"Created the admin API key (shown once, store it now):\n\n    {raw_key}\n")
    db.dispose()
    click.echo(
        f"genjobs {__version__} on {settings.base_url} (data in {settings.data_dir.resolve()})"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=10,
    )


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=None)
@models_option
def worker(data_dir: Path | None, worker_models: list[str] | None) -> None:
    """Run workers only, against the shared database (GENJOBS_DATABASE_URL)."""
    from genjobs.assembly import assemble, open_database

    settings = _settings(data_dir=data_dir, workers=True, worker_models=worker_models)
    _check_models(settings)
    _check_storage(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    async def run() -> None:
        db = open_database(settings)
        svc = assemble(settings, db)
        assert svc.runner is not None
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(svc.runner.run())
        listener = svc.backend.start_wakeups()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        models = svc.registry.only(settings.worker_models).names()
        click.echo(f"genjobs worker {svc.runner.worker_id} running {models}")
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            if listener is not None:
                listener.cancel()
            await svc.runner.shutdown()
            db.dispose()

    asyncio.run(run())


@main.group()
def keys() -> None:
    """Manage API keys (stored hashed, each with a credit balance).

    These commands open the service's database directly, not through the API: run them
    with the server's data dir (--data-dir, or GENJOBS_DATA_DIR; default ./genjobs-data,
    relative to the current directory) or with GENJOBS_DATABASE_URL set to the server's
    database (PostgreSQL), which takes precedence. Each prints the database it used to
    stderr."""


def _open(data_dir: Path | None) -> tuple[Database, Settings]:
    """The keys' database, named on stderr: a wrong data dir would otherwise silently
    manage a fresh database that no server reads."""
    from genjobs.assembly import open_database

    settings = _settings(data_dir=data_dir)
    click.echo(f"genjobs keys: {_describe_database(settings, data_dir)}", err=True)
    return open_database(settings), settings


def _describe_database(settings: Settings, data_dir: Path | None) -> str:
    if settings.database_url:
        return f"database {_without_password(settings.database_url)} (GENJOBS_DATABASE_URL)"
    folder = settings.data_dir.resolve()
    path = folder / "genjobs.db"
    notes = []
    if data_dir is None and settings.data_dir == Settings.model_fields["data_dir"].default:
        notes.append("the default data dir; --data-dir or GENJOBS_DATA_DIR choose another")
    if not path.exists():
        notes.append("a new database: no server has used this data dir yet")
    return f"data dir {folder}, database {path}" + (f" ({'; '.join(notes)})" if notes else "")


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The server's data dir [env GENJOBS_DATA_DIR, default ./genjobs-data]; "
    "GENJOBS_DATABASE_URL, when set, names the database instead.",
)


@keys.command("create")
@click.option("--name", default="", help="A label for the key.")
@click.option("--credits", "credits_", type=float, default=None, help="Starting balance.")
@click.option("--admin", is_flag=True, help="Sees and manages every task.")
@data_dir_option
def keys_create(name: str, credits_: float | None, admin: bool, data_dir: Path | None) -> None:
    """Create a key and print it (shown once)."""
    from genjobs.store import keys as store

    db, settings = _open(data_dir)
    balance = credits_ if credits_ is not None else settings.default_credits
    key_id, raw_key = db.run_sync(
        lambda conn: store.create_key(conn, name=name, credits=balance, is_admin=admin)
    )
    click.echo(json.dumps({"id": key_id, "key": raw_key, "credits": balance, "admin": admin}))


@keys.command("list")
@data_dir_option
def keys_list(data_dir: Path | None) -> None:
    """List keys (never the keys themselves)."""
    from genjobs.store import keys as store

    db, _ = _open(data_dir)
    for row in db.run_sync(store.list_keys):
        status = "revoked" if row["revoked_at"] else "active"
        role = "admin" if row["is_admin"] else "user"
        click.echo(f"{row['id']}\t{role}\t{status}\t{row['credits']:g}\t{row['name']}")


@keys.command("revoke")
@click.argument("key_id")
@data_dir_option
def keys_revoke(key_id: str, data_dir: Path | None) -> None:
    """Revoke a key by its id (effective within 5 s on running servers)."""
    from genjobs.store import keys as store

    db, _ = _open(data_dir)
    if not db.run_sync(lambda conn: store.revoke(conn, key_id)):
        raise click.ClickException(f"no active key with id {key_id}")
    click.echo(f"revoked {key_id}")


@keys.command("set-credits")
@click.argument("key_id")
@click.argument("credits_", metavar="CREDITS", type=float)
@data_dir_option
def keys_set_credits(key_id: str, credits_: float, data_dir: Path | None) -> None:
    """Set a key's credit balance."""
    from genjobs.store import keys as store

    db, _ = _open(data_dir)
    if not db.run_sync(lambda conn: store.set_credits(conn, key_id, credits_)):
        raise click.ClickException(f"no key with id {key_id}")
    click.echo(f"{key_id} now has {credits_:g} credits")


register_client_commands(main)
