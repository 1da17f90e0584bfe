"""An expert's own benchmark questions in the console: the question-set editor
(`/experts/{id}/benchmark/questions`: add, import JSONL, write its set from its documents,
delete) and the diagnosis (`/experts/{id}/benchmark/diagnosis`: its questions closed book,
with retrieval, with the adapter).

Every form works without JavaScript (a POST answered with a redirect, or the page with the
error); with htmx the same endpoints answer the page, of which htmx keeps the part the form
is about (`hx-select`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from contracts.base import DomainError, ErrorCode
from contracts.benchmark import AddQuestions, Diagnose, GenerateExpertSet, RemoveQuestion, Size
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.benchmark import runs as reads
from gateway.benchmark.forms import QuestionForm
from gateway.benchmark.pages import refused
from gateway.benchmark.questions import from_jsonl
from gateway.benchmark.views import SUITES, setup_label
from gateway.http.pages import FORM, is_htmx

KINDS = (
    ("text", "Free text: compared with the reference"),
    ("value", "A value: a number or a short exact answer"),
    ("knowledge", "From the documents: should cite where it is"),
)


async def questions_page(
    backend: Backend, expert_id: str, status: int = 200, **more: Any
) -> Template:
    expert, questions = await asyncio.gather(
        backend.ask(GetExpert(expert_id=expert_id)), reads.questions(backend, expert_id)
    )
    by_suite = {suite: [q for q in questions if q.source == suite] for suite in SUITES}
    context = {
        "expert": expert,
        "by_suite": by_suite,
        "suites": SUITES,
        "kinds": KINDS,
        "form": QuestionForm(),
        "notice": None,
        "error": None,
        "error_for": None,
        **more,
    }
    return Template("benchmark/questions.html", context=context, status_code=status)


async def question_change(request: Request, backend: Backend, expert_id: str, change, about: str,
                          form: QuestionForm | None = None) -> Response:  # fmt: skip
    """Make a change to the questions; the page with what was done, or why not beside the
    form it is about (`add`, `import`, `generate` or a question's id)."""
    try:
        notice = await change()
    except DomainError as exc:
        return await questions_page(backend, expert_id, exc.status, error=refused(exc),
                                    error_for=about, form=form or QuestionForm())  # fmt: skip
    if not is_htmx(request):
        return Redirect(f"/experts/{expert_id}/benchmark/questions", status_code=303)
    return await questions_page(backend, expert_id, notice=notice)


class QuestionPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/benchmark/questions")
    async def page(self, expert_id: str, backend: Backend) -> Template:
        return await questions_page(backend, expert_id)

    @post("/ui/experts/{expert_id:str}/benchmark/questions")
    async def add(
        self, request: Request, expert_id: str, backend: Backend, data: QuestionForm = FORM
    ) -> Response:
        async def change() -> str:
            question = data.question_in().question_of()
            await backend.send(AddQuestions(expert_id=expert_id, questions=[question]))
            return "The question is added to your custom questions."

        return await question_change(request, backend, expert_id, change, "add", data)

    @post("/ui/experts/{expert_id:str}/benchmark/questions/import")
    async def import_jsonl(self, request: Request, expert_id: str, backend: Backend) -> Response:
        async def change() -> str:
            upload = (await request.form()).get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise DomainError(ErrorCode.INVALID, "Choose a .jsonl file to import.")
            questions = from_jsonl(await upload.read())
            await backend.send(AddQuestions(expert_id=expert_id, questions=questions))
            return f"Imported {len(questions)} question{'s' if len(questions) != 1 else ''}."

        return await question_change(request, backend, expert_id, change, "import")

    @post("/ui/experts/{expert_id:str}/benchmark/questions/generate")
    async def generate(self, request: Request, expert_id: str, backend: Backend) -> Response:
        async def change() -> str:
            cmd = GenerateExpertSet(expert_id=expert_id)
            await backend.send(cmd, timeout=reads.GENERATE_TIMEOUT_S)
            made = await reads.questions(backend, expert_id, "expert")
            return f"Wrote {len(made)} questions from its documents."

        return await question_change(request, backend, expert_id, change, "generate")

    @post("/ui/experts/{expert_id:str}/benchmark/questions/{question_id:str}/delete")
    async def delete(
        self, request: Request, expert_id: str, question_id: str, backend: Backend
    ) -> Response:
        async def change() -> str:
            await backend.send(RemoveQuestion(expert_id=expert_id, question_id=question_id))
            return "The question is deleted."

        return await question_change(request, backend, expert_id, change, question_id)


async def diagnosis_page(backend: Backend, expert_id: str, status: int = 200, **more) -> Template:
    expert, diagnosis = await asyncio.gather(
        backend.ask(GetExpert(expert_id=expert_id)), reads.diagnosis(backend, expert_id)
    )
    context = {"expert": expert, "diagnosis": diagnosis, "setup_label": setup_label,
               "error": None, **more}  # fmt: skip
    return Template("benchmark/diagnosis.html", context=context, status_code=status)


class DiagnosisPages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/benchmark/diagnosis")
    async def page(self, expert_id: str, backend: Backend) -> Template:
        return await diagnosis_page(backend, expert_id)

    @post("/ui/experts/{expert_id:str}/benchmark/diagnose")
    async def diagnose(
        self, request: Request, expert_id: str, backend: Backend, data: dict[str, str] = FORM
    ) -> Response:
        size: Size = "full" if data.get("size") == "full" else "quick"
        try:
            diagnosis = await backend.send(Diagnose(expert_id=expert_id, size=size))
        except DomainError as exc:
            return await diagnosis_page(backend, expert_id, exc.status, error=refused(exc))
        if not is_htmx(request):
            return Redirect(f"/experts/{expert_id}/benchmark/diagnosis", status_code=303)
        return await diagnosis_page(backend, expert_id, diagnosis=diagnosis)


ROUTES = [QuestionPages, DiagnosisPages]
