"""A model's input, validated the way kie.ai clients expect.

kie.ai accepts optional keys a model does not use (``resolution``, ``output_format``,
``image_input``, ...), and third-party kie clients send them. So by default an unknown
key is dropped, wherever it sits in the input, and named to the caller; a known key with
a bad value is still an error. ``GENJOBS_STRICT_INPUT=true`` refuses unknown keys instead.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

_UNKNOWN_KEY = "extra_forbidden"


def validate_input(
    schema: type[BaseModel], raw: dict[str, Any], *, strict: bool
) -> tuple[BaseModel, list[str]]:
    """The validated input and the dotted paths of the unknown keys it dropped.

    Raises pydantic's ValidationError for the input's real faults (and, when ``strict``,
    for unknown keys too)."""
    try:
        return schema.model_validate(raw), []
    except ValidationError as exc:
        unknown = [error["loc"] for error in exc.errors() if error["type"] == _UNKNOWN_KEY]
        if strict or not unknown:
            raise
    # The rare path: validate again without them, so only the real faults remain.
    return schema.model_validate(_without(raw, unknown)), [_dotted(loc) for loc in unknown]


def _without(raw: dict[str, Any], locations: Sequence[tuple[int | str, ...]]) -> dict[str, Any]:
    cleaned = copy.deepcopy(raw)
    for location in locations:
        parent: Any = cleaned
        for step in location[:-1]:
            parent = parent[step]
        del parent[location[-1]]
    return cleaned


def _dotted(location: tuple[int | str, ...]) -> str:
    steps = (f"[{step}]" if isinstance(step, int) else f".{step}" for step in location)
    return "".join(steps).lstrip(".")
