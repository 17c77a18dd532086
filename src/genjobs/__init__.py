"""genjobs: generative-AI models as asynchronous jobs behind a kie.ai-compatible API."""

__version__ = "0.1.0"
