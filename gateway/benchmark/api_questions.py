"""An expert's benchmark questions (`/api/benchmark/questions...`): list them (the built-in
bank, the set written from its documents, its custom ones), add custom ones as a JSON list or
import them as JSONL, delete one, and write the expert's own set from its documents.

These fixed paths are declared before `/api/benchmark/{run_id}`.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, delete, get, post
from litestar.params import Parameter
from msgspec import Meta

from contracts.benchmark import AddQuestions, GenerateExpertSet, Question, RemoveQuestion, Suite
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.benchmark.questions import QuestionIn, from_jsonl
from gateway.benchmark.runs import GENERATE_TIMEOUT_S, questions
from gateway.http.errors import error_responses

EXPERT_ID = Parameter(query="expert_id", description="The expert's id.")
MAX_QUESTIONS = 500  # at once: what one AddQuestions holds


async def listed(backend: Backend, expert_id: str) -> Response[list[Question]]:
    return Response(await questions(backend, expert_id, "custom"), status_code=201)


@get(
    "/api/benchmark/questions",
    summary="An expert's benchmark questions: built-in, its own set and its custom ones",
    description="Each: `{id, domain, question, reference, kind, difficulty, rubric, source,"
    " document_id, filename, page}`; `suite` keeps one source.",
    responses=error_responses(400, 404),
)
async def list_questions(
    backend: Backend, expert_id: str = EXPERT_ID, suite: Suite | None = Parameter(default=None)
) -> list[Question]:
    return await questions(backend, expert_id, suite)


@post(
    "/api/benchmark/questions",
    summary="Add custom questions (a JSON list)",
    description="Each `{question, reference, id?, domain?, kind?, difficulty?, rubric?}`; an id"
    " already taken replaces that question. Answers 201 with the expert's custom questions.",
    status_code=201,
    responses=error_responses(400, 404),
)
async def add_questions(
    data: Annotated[list[QuestionIn], Meta(max_length=MAX_QUESTIONS)],
    backend: Backend,
    expert_id: str = EXPERT_ID,
) -> Response[list[Question]]:
    await backend.send(AddQuestions(expert_id=expert_id, questions=[q.question_of() for q in data]))
    return await listed(backend, expert_id)


@post(
    "/api/benchmark/questions/import",
    summary="Import custom questions from JSONL (one question object a line)",
    description="Send the file as the body (Content-Type application/x-ndjson,"
    " application/jsonl or application/json). A bad line refuses the whole file with a 400"
    " naming each bad line by its number. Answers 201 with the expert's custom questions.",
    status_code=201,
    responses=error_responses(400, 404),
)
async def import_questions(
    request: Request, backend: Backend, expert_id: str = EXPERT_ID
) -> Response[list[Question]]:
    await backend.ask(GetExpert(expert_id=expert_id))
    added = from_jsonl(await request.body())
    await backend.send(AddQuestions(expert_id=expert_id, questions=added))
    return await listed(backend, expert_id)


@post(
    "/api/benchmark/questions/generate",
    summary="Write the expert's own question set from its newest ready training dataset",
    description="The held-out examples that came from its documents, each with the page that"
    " answers it; a new set replaces the last. Without a ready dataset, a 400 saying so."
    " Answers 201 with the set.",
    status_code=201,
    responses=error_responses(400, 404),
)
async def generate(backend: Backend, expert_id: str = EXPERT_ID) -> list[Question]:
    await backend.ask(GetExpert(expert_id=expert_id))
    await backend.send(GenerateExpertSet(expert_id=expert_id), timeout=GENERATE_TIMEOUT_S)
    return await questions(backend, expert_id, "expert")


@delete(
    "/api/benchmark/questions/{question_id:str}",
    summary="Delete one of the expert's custom questions",
    status_code=204,
    responses=error_responses(400, 404),
)
async def remove(question_id: str, backend: Backend, expert_id: str = EXPERT_ID) -> None:
    await backend.ask(GetExpert(expert_id=expert_id))
    await backend.send(RemoveQuestion(expert_id=expert_id, question_id=question_id))


ROUTES = [list_questions, add_questions, import_questions, generate, remove]
