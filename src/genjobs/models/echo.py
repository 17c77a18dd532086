"""``genjobs/echo``: a diagnostic model for tests, benchmarks and client integrations."""

from __future__ import annotations

import os
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from genjobs.runtime.context import RunContext
from genjobs.runtime.model import Model, TaskFailed


class EchoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=10_000, description="Returned unchanged in resultObject.text.")
    sleep_s: float = Field(
        default=0.0, ge=0, le=3600, description="Seconds to spend 'generating' first."
    )
    fail: str | None = Field(
        default=None,
        max_length=64,
        description="When set, the task fails with this failCode after the sleep.",
    )
    repeat: int = Field(
        default=1,
        ge=1,
        le=1000,
        description="resultObject.text is `text` this many times (large results, for tests).",
    )
    crash: bool = Field(
        default=False,
        description="When true, the worker process dies mid-run (tests crash isolation).",
    )


class EchoModel(Model[EchoInput]):
    name = "genjobs/echo"
    input_schema = EchoInput
    description = "Diagnostic: echoes `text` after `sleep_s`, or fails with `fail` as failCode."
    price = 1.0
    concurrency = 4
    timeout_s = 3600.0

    def run(self, input: EchoInput, ctx: RunContext) -> dict[str, Any]:
        steps = max(1, int(input.sleep_s * 10))
        for step in range(steps if input.sleep_s else 0):
            time.sleep(input.sleep_s / steps)
            ctx.progress(100 * (step + 1) / steps)
        if input.crash:
            os._exit(3)
        if input.fail:
            raise TaskFailed(input.fail, f"echo was asked to fail with {input.fail!r}")
        return {"resultObject": {"text": input.text * input.repeat}}
