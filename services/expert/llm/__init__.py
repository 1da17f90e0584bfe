"""Model backends of the expert service: the local model (transformers + PEFT adapters, one
worker, a fair queue), OpenAI-compatible servers and Ollama, behind one streaming interface."""

from services.expert.llm.base import (
    Adapter,
    Backend,
    BackendBusy,
    BackendConfig,
    BackendError,
    Finished,
    Message,
    Params,
    Piece,
)
from services.expert.llm.factory import PRESETS, make_backend
from services.expert.llm.local import LocalBackend
from services.expert.llm.local_model import LocalModel
from services.expert.llm.ollama import OllamaBackend
from services.expert.llm.openai_compat import OpenAICompatBackend

__all__ = [
    "PRESETS",
    "Adapter",
    "Backend",
    "BackendBusy",
    "BackendConfig",
    "BackendError",
    "Finished",
    "LocalBackend",
    "LocalModel",
    "Message",
    "OllamaBackend",
    "OpenAICompatBackend",
    "Params",
    "Piece",
    "make_backend",
]
