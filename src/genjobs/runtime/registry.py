"""The model registry: every class published under the entry-point group ``genjobs.models``.

Built-in models are published by genjobs' own pyproject.toml the same way a third-party
plugin is, so there is one path for both.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from genjobs.config import Settings
from genjobs.runtime.model import Model

ENTRY_POINT_GROUP = "genjobs.models"
log = logging.getLogger("genjobs.registry")

AnyModel = Model[Any]


class ModelRegistry:
    def __init__(self, models: list[AnyModel]) -> None:
        self._models: dict[str, AnyModel] = {}
        for model in models:
            if model.name in self._models:
                raise ValueError(f"two models are named {model.name!r}")
            self._models[model.name] = model

    @classmethod
    def from_entry_points(cls) -> ModelRegistry:
        models: list[AnyModel] = []
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                model_class = entry.load()
            except Exception:  # a broken plugin must not take the service down
                log.exception("could not load model plugin %s", entry.value)
                continue
            if not (isinstance(model_class, type) and issubclass(model_class, Model)):
                log.error("plugin %s is not a genjobs Model subclass", entry.value)
                continue
            models.append(model_class())
        return cls(models)

    def get(self, name: str) -> AnyModel | None:
        return self._models.get(name)

    def names(self) -> list[str]:
        return sorted(self._models)

    def __iter__(self) -> Any:
        return iter(self._models[name] for name in self.names())

    def concurrency(self, model: AnyModel, settings: Settings) -> int:
        """Processes of the model on one machine: GENJOBS_CONCURRENCY's, else its own."""
        return settings.concurrency.get(model.name, model.concurrency)

    def only(self, names: list[str]) -> ModelRegistry:
        """The registry of just these models (all of them when ``names`` is empty)."""
        if not names:
            return self
        return ModelRegistry([self._models[name] for name in names])

    def check_settings(self, settings: Settings) -> None:
        """Refuse settings that name models which are not installed (a typo would
        otherwise be ignored silently)."""
        for variable, named in (
            ("GENJOBS_CONCURRENCY", settings.concurrency),
            ("GENJOBS_WORKER_MODELS", settings.worker_models),
        ):
            unknown = sorted(set(named) - set(self._models))
            if unknown:
                raise ValueError(
                    f"{variable} names models that are not installed: {', '.join(unknown)}"
                    f" (installed: {', '.join(self.names())})"
                )

    def validate_input(self, model: AnyModel, data: Any) -> BaseModel:
        return model.input_schema.model_validate(data)
