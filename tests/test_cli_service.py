"""The service commands: first start prints an admin key once; keys are managed by CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.serverproc import GENJOBS, free_port


def genjobs(*args: str, data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJOBS_")}
    done = subprocess.run(
        [GENJOBS, *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_first_start_prints_an_admin_key_once_and_keys_are_managed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJOBS_")}
    log = tmp_path / "serve.log"

    def serve() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [GENJOBS, "serve", "--port", str(port), "--data-dir", str(data_dir)],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    return process
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(log.read_text())

    server = serve()
    try:
        printed = re.findall(r"gj_[A-Za-z0-9_-]{40,}", log.read_text())
        assert len(printed) == 1
        admin = {"Authorization": f"Bearer {printed[0]}"}
        assert (
            httpx.get(f"http://127.0.0.1:{port}/api/v1/chat/credit", headers=admin).json()["code"]
            == 200
        )

        created = json.loads(
            genjobs("keys", "create", "--name", "bob", "--credits", "7", data_dir=data_dir)
        )
        bob = {"Authorization": f"Bearer {created['key']}"}
        credit = httpx.get(f"http://127.0.0.1:{port}/api/v1/chat/credit", headers=bob).json()
        assert credit["data"] == 7
        listing = genjobs("keys", "list", data_dir=data_dir)
        assert created["key"] not in listing and created["id"] in listing and "bob" in listing
        genjobs("keys", "set-credits", created["id"], "9", data_dir=data_dir)
        assert "revoked" in genjobs("keys", "revoke", created["id"], data_dir=data_dir)
        time.sleep(5.5)  # the server caches a key's identity for up to 5 s
        revoked = httpx.get(f"http://127.0.0.1:{port}/api/v1/chat/credit", headers=bob)
        assert revoked.status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)

    server = serve()  # a second start keeps the key and prints none
    try:
        assert len(re.findall(r"gj_[A-Za-z0-9_-]{40,}", log.read_text())) == 0
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_bad_settings_are_refused_naming_the_variable(tmp_path: Path) -> None:
    def serve(**env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("GENJOBS_")}
        return subprocess.run(
            [GENJOBS, "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "d")],
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    typo = serve(GENJOBS_CONCURRENCY='{"genjobs/ecko": 2}')
    assert typo.returncode == 1
    assert "GENJOBS_CONCURRENCY names models that are not installed: genjobs/ecko" in typo.stderr
    zero = serve(GENJOBS_CONCURRENCY='{"genjobs/echo": 0}')
    assert zero.returncode == 1
    assert "GENJOBS_CONCURRENCY[genjobs/echo]: Input should be greater than 0" in zero.stderr
    not_a_number = serve(GENJOBS_RATE_LIMIT="twenty")
    assert not_a_number.returncode == 1 and "GENJOBS_RATE_LIMIT: " in not_a_number.stderr
    for refused in (typo, zero, not_a_number):
        assert "Traceback" not in refused.stderr
    assert not (tmp_path / "d").exists()  # refused before anything was written
