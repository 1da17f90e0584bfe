"""The chat page: ask an expert a question (or have it write a draft) and watch the answer
being written.

In the browser, `web/static/chat.js` posts the question to the JSON API with
`Accept: text/event-stream` and writes the answer as it streams, then loads the answer's
card (score, rating, edit). Without JavaScript the same form posts here
(`/ui/experts/{id}/ask`), which waits for the whole answer and shows the page with it.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get, post
from litestar.response import Template

from contracts.answers import AnswerReply, Ask, GetAnswer, GetBackend
from contracts.base import DomainError, ErrorCode
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.expert.answers.live import answer_frames
from gateway.expert.answers.pages import RATINGS
from gateway.expert.answers.views import MODES, is_bundled, shown
from gateway.http.pages import FORM
from gateway.ingest.documents import documents_page


class AskForm(msgspec.Struct, kw_only=True):
    question: str = ""
    mode: str = ""
    action: str = "ask"  # "ask" or "draft" (the button pressed)

    def command(self, expert_id: str) -> Ask:
        question = self.question.replace("\r\n", "\n").strip()
        if not question:
            raise DomainError(ErrorCode.INVALID, "Type a question first.")
        if self.action == "draft":
            return Ask(expert_id=expert_id, question=question, kind="draft")
        mode = self.mode if self.mode in {m.value for m in MODES} else None
        return Ask(expert_id=expert_id, question=question, mode=mode)


def friendly(exc: DomainError) -> str:
    """A refusal to answer in one sentence a person can act on."""
    if exc.code == ErrorCode.BUSY:
        return "The model is busy with other questions right now; try again in a few seconds."
    if exc.code == ErrorCode.BACKEND:
        return f"The model server did not answer: {exc.detail}"
    return exc.detail


async def chat_context(backend: Backend, expert_id: str) -> dict:
    expert = await backend.ask(GetExpert(expert_id=expert_id))
    model = await backend.ask(GetBackend(expert_id=expert_id))
    documents, _ = await documents_page(backend, expert_id, limit=1)
    return {
        "expert": expert,
        "model": model,
        "bundled": is_bundled(model.label),
        "has_documents": bool(documents),
        "mode": "rag" if documents else "closed",
        "modes": MODES,
        "ratings": RATINGS,
    }


async def whole_answer(backend: Backend, cmd: Ask) -> AnswerReply:
    async for item in answer_frames(backend, cmd):
        if isinstance(item, AnswerReply):
            return item
    raise DomainError(ErrorCode.UNAVAILABLE, "The expert stopped before finishing its answer.")


class ChatPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/chat")
    async def chat(self, expert_id: str, backend: Backend) -> Template:
        return Template("chat.html", context=await chat_context(backend, expert_id))

    @post("/ui/experts/{expert_id:str}/ask")
    async def ask(
        self,
        expert_id: str,
        backend: Backend,
        data: AskForm = FORM,
    ) -> Response:
        context = await chat_context(backend, expert_id)
        context |= {"question": data.question, "mode": data.mode or context["mode"]}
        try:
            reply = await whole_answer(backend, data.command(expert_id))
        except DomainError as exc:
            if exc.status == 404:
                raise
            context["error"] = friendly(exc)
            return Template("chat.html", context=context, status_code=exc.status)
        answered = await backend.ask(GetAnswer(answer_id=reply.answer_id, after_seq=reply.seq))
        context |= {"answered": shown(answered), "card": shown(answered)}
        return Template("chat.html", context=context)


ROUTES = [ChatPages]
