"""Shared fixtures: real databases (SQLite and PostgreSQL), the app in-process, and a real
`genjobs serve` subprocess (`live_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from genjobs.api.app import create_app
from genjobs.config import Settings, use_settings
from genjobs.store.database import Database
from tests.cluster import fresh_postgres
from tests.serverproc import ServerProcess

ADMIN_KEY = "gj_test_admin_key"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    with fresh_postgres() as url:
        yield url


def reset_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database of the test's own."""
    database = Database(f"sqlite:///{tmp_path / 'genjobs.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of a fresh service, once on SQLite and once on PostgreSQL."""
    database_url = ""
    if request.param == "postgresql":
        database_url = request.getfixturevalue("postgres_url")
        reset_postgres(database_url)
    return use_settings(
        Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            api_key=ADMIN_KEY,
            allow_private_urls=True,
            port=8000,
            callback_retry_base_s=0.2,
            lease_s=3.0,
        )
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The whole app in-process (lifespan, embedded workers), admin key preset."""
    with TestClient(create_app(settings), base_url=settings.base_url) as test_client:
        test_client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield test_client


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real `genjobs serve` on loopback (SQLite), shared by the tests of a session.

    Attributes: base_url, api_key (admin), webhook_key, data_dir, headers.
    """
    server = ServerProcess(tmp_path_factory.mktemp("live") / "data", api_key=ADMIN_KEY)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[Database]:
    """The session's PostgreSQL database, emptied and migrated, for this test."""
    reset_postgres(postgres_url)
    database = Database(postgres_url)
    database.migrate()
    yield database
    database.dispose()
