"""The layers keep to their side: a worker process (`genjobs worker`, and the model
processes it spawns) and the use cases load nothing of the HTTP API."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "modules",
    [
        # What `genjobs worker` imports to run.
        "genjobs.cli, genjobs.assembly, genjobs.dispatch.notify",
        # A model process.
        "genjobs.runtime.worker_process, genjobs.models.echo",
        "genjobs.usecases.submission, genjobs.usecases.cancellation",
    ],
)
def test_imports_nothing_of_the_api(modules: str) -> None:
    code = (
        f"import sys, {modules}\n"
        "print(sorted(m for m in sys.modules if m.startswith('genjobs.api')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
