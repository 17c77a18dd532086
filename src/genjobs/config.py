"""Settings from the environment (prefix ``GENJOBS_``) and an optional ``.env`` file.

One immutable ``Settings`` object is built by the CLI and handed to the server and to
every worker process, so a flag such as ``--data-dir`` reaches the models too.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import PositiveInt, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from genjobs.files.storage.location import parse_storage_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GENJOBS_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Path("genjobs-data")
    database_url: str = ""  # empty: SQLite file in data_dir
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # base of the links genjobs hands out; empty: http://host:port

    api_key: str = ""  # when set, this key exists as an admin key
    admin_credits: float = 1_000_000.0
    default_credits: float = 1_000.0  # balance of a key created without --credits
    secret_key: str = ""  # signs download links; empty: generated once into data_dir

    # createTask rate limit per key: `rate_limit` requests per `rate_window_s` seconds.
    rate_limit: int = 20
    rate_window_s: float = 10.0
    rate_limit_admins: bool = False

    webhook_key: str = ""  # when set, callbacks are signed (kie + Standard Webhooks)
    callback_timeout_s: float = 15.0
    callback_max_attempts: int = 8
    callback_retry_base_s: float = 5.0  # first retry delay; doubles each attempt
    callback_retry_max_s: float = 3600.0

    allow_private_urls: bool = False  # SSRF guard for inputs and callbacks
    fetch_max_bytes: int = 200 * 1024 * 1024
    fetch_timeout_s: float = 120.0
    upload_max_bytes: int = 200 * 1024 * 1024
    max_body_bytes: int = 1024 * 1024  # JSON request bodies (createTask, ...); not uploads
    strict_input: bool = False  # refuse unknown input keys (422) instead of ignoring them
    retention_days: float = 14.0
    # Where uploads and results live: empty is <data_dir>/files on this machine; an
    # s3://bucket/prefix?endpoint_url=... URL is a bucket that API nodes and workers on
    # different machines share (files/storage/location.py has the rule).
    storage_url: str = ""

    lease_s: float = 30.0  # a generating task whose lease lapses is retried or failed
    max_attempts: int = 2  # runs of one task before a lost worker fails it
    cancel_grace_s: float = 5.0  # how long a model may take to honour a cancel
    workers: bool = True  # run embedded workers inside `genjobs serve`
    model_timeout_s: float | None = None  # overrides every model's own timeout
    # Processes per model on this machine, overriding a model's own `concurrency`, as JSON:
    # GENJOBS_CONCURRENCY='{"elevenlabs/speech-to-text": 2}'.
    concurrency: dict[str, PositiveInt] = {}
    # The models this machine's workers run (empty: every installed model), as JSON:
    # GENJOBS_WORKER_MODELS='["elevenlabs/speech-to-text"]', or `--models` on the command
    # line. The API still accepts tasks of every model; other workers run the rest.
    worker_models: list[str] = []
    # PostgreSQL: wake workers by LISTEN/NOTIFY. Off behind a pooler that cannot LISTEN
    # (PgBouncer in transaction mode): workers then find new work by polling, each second.
    listen_for_work: bool = True

    # Shared by all data dirs: derived model files (e.g. joined weights) made once.
    model_cache_dir: Path = Path.home() / ".cache" / "genjobs"

    @field_validator("storage_url")
    @classmethod
    def _storage_url_parses(cls, value: str) -> str:
        parse_storage_url(value)  # raises ValueError naming the rule
        return value

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'genjobs.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @cached_property
    def signing_key(self) -> bytes:
        """The secret behind signed links: configured, or created once per data dir."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_urlsafe(32))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip().encode()


_current: Settings | None = None


def get_settings() -> Settings:
    """The settings of this process (set by the CLI or a worker's start-up)."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def use_settings(settings: Settings) -> Settings:
    global _current
    _current = settings
    return settings
