"""Which model answers for an expert: the bundled local model (loaded once per process, on
first use) or the remote server its settings name, with the API key unsealed only here,
in memory, when a request needs it."""

from __future__ import annotations

import asyncio

from contracts.answers import BackendConfigured
from contracts.base import DomainError, ErrorCode
from runtime.keyring import ProviderKeys
from runtime.logs import get_logger
from runtime.models import BUNDLED
from runtime.secrets import SecretUnreadable
from runtime.settings import Settings
from services.expert.llm import Backend, BackendConfig, BackendError, LocalModel, make_backend

log = get_logger(__name__)

API_KEY_PURPOSE = "expert.backend.api_key"  # what a sealed key is bound to, with its tenant


def label(configured: BackendConfigured | None, base_model: str = BUNDLED) -> str:
    """What answers, in the words the console shows."""
    if configured is None or configured.kind == "local":
        if base_model == BUNDLED:
            return "the bundled SmolLM2-135M model"
        return f"the local model {base_model}"
    server = "Ollama" if configured.kind == "ollama" else "an OpenAI-compatible server"
    return f"{configured.model or 'the default model'} on {server} at {configured.base_url}"


def is_bundled(configured: BackendConfigured | None, base_model: str) -> bool:
    return (configured is None or configured.kind == "local") and base_model == BUNDLED


class Backends:
    def __init__(self, settings: Settings, keys: ProviderKeys) -> None:
        self.settings, self.keys = settings, keys
        self._local: Backend | None = None
        self._loading = asyncio.Lock()
        self._remote: dict[tuple[str, str], tuple[BackendConfigured, Backend]] = {}

    async def local(self) -> Backend:
        async with self._loading:
            if self._local is None:
                s = self.settings
                try:
                    model = await asyncio.to_thread(
                        LocalModel.load,
                        s.base_model,
                        s.home,
                        queue_limit=s.generation_queue,
                        threads=s.model_threads,
                    )
                except BackendError as exc:
                    raise backend_failed(exc) from exc
                self._local = make_backend(BackendConfig(kind="local"), local=model)
                log.info("expert.local_model_loaded", model=self._local.model)
            return self._local

    async def for_expert(
        self, tenant: str, expert_id: str, configured: BackendConfigured | None
    ) -> Backend:
        if configured is None or configured.kind == "local":
            return await self.local()
        cached = self._remote.get((tenant, expert_id))
        if cached and cached[0] == configured:
            return cached[1]
        try:
            backend = make_backend(await self.config_of(tenant, configured), local=None)
        except BackendError as exc:
            raise backend_failed(exc) from exc
        self._remote[(tenant, expert_id)] = (configured, backend)
        if cached:
            await cached[1].close()
        return backend

    async def config_of(self, tenant: str, configured: BackendConfigured) -> BackendConfig:
        api_key = None
        if configured.api_key_sealed is not None:
            try:
                api_key = await self.keys.open(tenant, configured.api_key_sealed, API_KEY_PURPOSE)
            except SecretUnreadable as exc:
                raise DomainError(ErrorCode.INVALID, str(exc)) from exc
        return BackendConfig(
            kind=configured.kind,
            base_url=configured.base_url,
            model=configured.model,
            api_key=api_key,
            timeout_s=configured.timeout_s,
        )

    async def close(self) -> None:
        for _, backend in self._remote.values():
            await backend.close()
        if self._local is not None:
            await self._local.close()


def backend_failed(exc: BackendError) -> DomainError:
    """A backend's failure as the caller sees it: its one sentence, and 503 when busy."""
    code = ErrorCode.BUSY if exc.reason == "busy" else ErrorCode.BACKEND
    return DomainError(code, exc.sentence)
