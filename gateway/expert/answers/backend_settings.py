"""The expert's model settings: which model answers (the local one, an OpenAI-compatible
server or Ollama), where, with which key, and a button that tries it.

The API key is never shown back, not even masked: the page says "a key is stored". An
empty key field keeps the stored key; "remove the key" sends "" (which removes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from contracts.answers import (
    BackendTestResult,
    BackendView,
    ConfigureBackend,
    GetBackend,
    TestBackend,
)
from contracts.base import DomainError, ErrorCode
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.expert.answers.api import TEST_TIMEOUT_S
from gateway.expert.answers.views import is_bundled
from gateway.http.pages import FORM, attempt, is_htmx

DEFAULT_TIMEOUT_S = 60.0
BAD_TIMEOUT = "The timeout must be a number of seconds, more than 0 and at most 600."


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str
    base_url: str
    model_hint: str


PRESETS = (
    Preset("OpenAI", "openai", "https://api.openai.com/v1", "gpt-4o-mini"),
    Preset("vLLM", "openai", "http://127.0.0.1:8000/v1", "the --model it serves"),
    Preset("llama.cpp server", "openai", "http://127.0.0.1:8080/v1", "any name"),
    Preset("LM Studio", "openai", "http://127.0.0.1:1234/v1", "the loaded model's id"),
    Preset(
        "Gemini",
        "openai",
        "https://generativelanguage.googleapis.com/v1beta/openai/",
        "gemini-2.5-flash",
    ),
    Preset("Ollama", "ollama", "http://127.0.0.1:11434", "llama3.2"),
)
KINDS = (
    ("local", "The local model", "Runs on this computer; nothing leaves it."),
    ("openai", "An OpenAI-compatible server", "OpenAI, vLLM, llama.cpp, LM Studio, Gemini, ..."),
    ("ollama", "Ollama", "A model served by Ollama on this or another computer."),
)


class BackendForm(msgspec.Struct, kw_only=True):
    kind: str = "local"
    base_url: str = ""
    model: str = ""
    api_key: str = ""
    remove_key: str = ""  # "on" when the box is ticked
    timeout_s: str = ""

    @classmethod
    def of(cls, view: BackendView) -> BackendForm:
        return cls(
            kind=view.kind,
            base_url=view.base_url or "",
            model=view.model or "",
            timeout_s=f"{view.timeout_s:g}",
        )

    def command(self, expert_id: str) -> ConfigureBackend:
        if self.kind == "local":
            return ConfigureBackend(expert_id=expert_id, kind="local", timeout_s=self.seconds())
        key = self.api_key.strip()
        return ConfigureBackend(
            expert_id=expert_id,
            kind=self.kind,  # type: ignore[arg-type]  (checked against the contract on sending)
            base_url=self.base_url.strip() or None,
            model=self.model.strip() or None,
            api_key="" if self.remove_key else (key or None),
            timeout_s=self.seconds(),
        )

    def seconds(self) -> float:
        if not self.timeout_s.strip():
            return DEFAULT_TIMEOUT_S
        try:
            value = float(self.timeout_s)
        except ValueError:
            value = 0.0
        if not 0 < value <= 600:
            raise DomainError(ErrorCode.INVALID, BAD_TIMEOUT)
        return value


async def settings_page(
    backend: Backend,
    expert_id: str,
    *,
    form: BackendForm | None = None,
    error: str | None = None,
    saved: bool = False,
    test: BackendTestResult | None = None,
    status: int = 200,
) -> Template:
    expert = await backend.ask(GetExpert(expert_id=expert_id))
    view = await backend.ask(GetBackend(expert_id=expert_id))
    context = {
        "expert": expert,
        "model": view,
        "bundled": is_bundled(view.label),
        "form": form or BackendForm.of(view),
        "presets": PRESETS,
        "kinds": KINDS,
        "error": error,
        "saved": saved,
        "test": test,
    }
    return Template("backend.html", context=context, status_code=status)


class BackendPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/backend")
    async def settings(self, expert_id: str, backend: Backend, saved: bool = False) -> Template:
        return await settings_page(backend, expert_id, saved=saved)

    @post("/ui/experts/{expert_id:str}/backend")
    async def save(
        self,
        expert_id: str,
        backend: Backend,
        data: BackendForm = FORM,
    ) -> Response:
        then = GetBackend(expert_id=expert_id)
        _, error = await attempt(lambda: backend.send(data.command(expert_id), then=then))
        if error is not None:
            form = msgspec.structs.replace(data, api_key="", remove_key="")
            return await settings_page(backend, expert_id, form=form, error=error, status=400)
        return Redirect(f"/experts/{expert_id}/backend?saved=true", status_code=303)

    @post("/ui/experts/{expert_id:str}/backend/test")
    async def test(self, request: Request, expert_id: str, backend: Backend) -> Template:
        result = await backend.ask(TestBackend(expert_id=expert_id), timeout=TEST_TIMEOUT_S)
        if is_htmx(request):
            return Template("partials/backend_test.html", context={"test": result})
        return await settings_page(backend, expert_id, test=result)


ROUTES = [BackendPages]
