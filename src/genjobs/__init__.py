"""genjobs: generative-AI models as asynchronous jobs behind a kie.ai-compatible API.

``from genjobs import Client, AsyncClient`` gives the SDK (loaded on first use, so the
server and workers do not import the client)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["AsyncClient", "Client", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("Client", "AsyncClient"):
        import genjobs.client

        return getattr(genjobs.client, name)
    raise AttributeError(f"module 'genjobs' has no attribute {name!r}")
