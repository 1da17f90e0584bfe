"""Choosing a backend from an expert's settings, and the presets the settings form offers."""

from __future__ import annotations

from services.expert.llm.base import Backend, BackendConfig, BackendError
from services.expert.llm.local import LocalBackend
from services.expert.llm.local_model import LocalModel
from services.expert.llm.ollama import OllamaBackend
from services.expert.llm.openai_compat import OpenAICompatBackend

PRESETS: dict[str, dict] = {
    "OpenAI": {"kind": "openai", "base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini"},
    "vLLM": {
        "kind": "openai",
        "base_url": "http://127.0.0.1:8000/v1",
        "model": "the --model it serves",
    },
    "llama.cpp server": {
        "kind": "openai",
        "base_url": "http://127.0.0.1:8080/v1",
        "model": "any name",
    },
    "LM Studio": {
        "kind": "openai",
        "base_url": "http://127.0.0.1:1234/v1",
        "model": "the loaded model's id",
    },
    "Gemini": {
        "kind": "openai",
        "base_url": "https://generativelanguage.googleapis.com/v1beta/openai/",
        "model": "gemini-2.5-flash",
    },
    "Ollama": {"kind": "ollama", "base_url": "http://127.0.0.1:11434", "model": "llama3.2"},
}
KINDS = ("local", "openai", "ollama")

_local_backends: dict[int, LocalBackend] = {}


def make_backend(config: BackendConfig, *, local: LocalModel | None) -> Backend:
    """The backend `config` describes.

    Every "local" config shares one LocalBackend per LocalModel (the process's one queue and
    worker), so close that one only at shutdown; a remote backend is a fresh client, close it
    when done with it.
    """
    if config.kind not in KINDS:
        raise ValueError(
            f"The backend kind must be one of {', '.join(KINDS)} (got {config.kind!r})."
        )
    if config.kind == "local":
        if local is None:
            raise BackendError("model", "The local model is not loaded yet; try again in a minute.")
        return _shared_local_backend(local)
    preset = PRESETS["Ollama" if config.kind == "ollama" else "OpenAI"]
    base_url = config.base_url or preset["base_url"]
    if not config.model:
        raise BackendError(
            "not_found", "Choose the model the server should use in the expert's backend settings."
        )
    remote = OllamaBackend if config.kind == "ollama" else OpenAICompatBackend
    return remote(base_url, config.model, api_key=config.api_key, timeout_s=config.timeout_s)


def _shared_local_backend(local: LocalModel) -> LocalBackend:
    backend = _local_backends.get(id(local))
    if backend is None or backend.closed or backend.local is not local:
        backend = _local_backends[id(local)] = LocalBackend(local)
    return backend
