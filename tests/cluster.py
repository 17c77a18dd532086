"""A genjobs deployment laid out as on several machines, run on this one: API nodes
(`genjobs serve --no-workers`) and `genjobs worker` processes, each with a data dir of
its own (no shared disk), sharing one PostgreSQL database and one S3-compatible object
store. The object store is moto's server mode, a stand-in for S3, which cannot be reached
from here. Used by tests/test_scale_out.py and bench/scale.py."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.serverproc import GENJOBS, ServerProcess, free_port

POSTGRES_ADMIN_URL = os.environ.get(
    "GENJOBS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BUCKET = "genjobs-results"


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards."""
    name = f"genjobs_cluster_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def object_store() -> Iterator[dict[str, str]]:
    """moto's S3 server on a loopback port with an empty bucket; yields the environment
    that points genjobs at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ACCESS_KEY_ID": "stand-in",
        "AWS_SECRET_ACCESS_KEY": "stand-in",
        "AWS_DEFAULT_REGION": "us-east-1",
        "GENJOBS_STORAGE_URL": f"s3://{BUCKET}/cluster?endpoint_url={endpoint}",
    }
    try:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="stand-in",
            aws_secret_access_key="stand-in",
        ).create_bucket(Bucket=BUCKET)
        yield env
    finally:
        server.stop()


class Worker:
    """One `genjobs worker` process (and its model processes) in a session of its own,
    so that killing it takes its model processes down too, as losing the machine would."""

    def __init__(self, root: Path, name: str, models: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.models = models
        self.data_dir = root / name
        self.env = env
        self.log_path = self.data_dir.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [GENJOBS, "worker", "--data-dir", str(self.data_dir)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--models", ",".join(self.models)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its model processes."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class Cluster:
    """API nodes and workers on one database and one object store. Every node signs
    links with the same secret and hands out links on the first API node's address (in
    production: the load balancer's, GENJOBS_PUBLIC_URL)."""

    def __init__(
        self,
        root: Path,
        database_url: str,
        storage_env: dict[str, str],
        api_nodes: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        ports = [free_port() for _ in range(api_nodes)]
        self.shared_env = {
            **os.environ,
            **storage_env,
            "GENJOBS_DATABASE_URL": database_url,
            "GENJOBS_SECRET_KEY": secrets.token_hex(32),
            "GENJOBS_API_KEY": "gj_cluster_admin_key",
            "GENJOBS_WEBHOOK_KEY": "whsec_Y2x1c3Rlci13ZWJob29rLWtleS0wMTIzNDU2Nzg5",
            "GENJOBS_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",
            "GENJOBS_ALLOW_PRIVATE_URLS": "true",
            "GENJOBS_CALLBACK_RETRY_BASE_S": "0.5",
            "GENJOBS_LEASE_S": "3",  # a lost worker's tasks are retried within seconds
            **(extra_env or {}),
        }
        self.api = [
            ServerProcess(
                root / f"api{index}",
                api_key=self.shared_env["GENJOBS_API_KEY"],
                webhook_key=self.shared_env["GENJOBS_WEBHOOK_KEY"],
                env={**self.shared_env, "GENJOBS_WORKERS": "false"},
                port=port,
            )
            for index, port in enumerate(ports)
        ]
        self.workers: list[Worker] = []

    def start(self) -> Cluster:
        for node in self.api:
            node.start()
        return self

    def add_worker(self, models: list[str]) -> Worker:
        worker = Worker(self.root, f"worker{len(self.workers)}", models, self.shared_env)
        self.workers.append(worker.start())
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for node in self.api:
            node.stop()
