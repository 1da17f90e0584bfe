"""Fine-tuning runs (`/api/finetune...`): queue a run (202, then follow it), read runs, follow
one live (SSE), cancel it, read and change an expert's fine-tuning settings, and estimate a
run before queueing it.

A hosted run (backend `openai`) must be confirmed: without `confirm: true` it is refused with
409 `confirmation_required`, whose detail is the estimate in one sentence. A config value out
of its range is a 400 naming the key and the range (the contract says so, and the same words
reach the console).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import msgspec
from litestar import Response, delete, get, post, put
from litestar.params import Parameter
from litestar.response import ServerSentEvent

from contracts.expert import GetExpert
from contracts.trainer import (
    STREAM,
    CancelFinetune,
    ConfigureFinetune,
    Estimate,
    EstimateRun,
    GetFinetuneSettings,
    GetRun,
    HostedInput,
    ListRuns,
    LossPoint,
    RunView,
    StartFinetune,
    TrainConfig,
    Usd,
)
from contracts.trainer import Backend as TrainBackend
from gateway.backend import Backend
from gateway.http.errors import error_responses
from gateway.http.fields import fields_from
from gateway.http.openapi import SSE, answering
from gateway.http.routes import one_message
from gateway.sse.follow import run_events

ESTIMATE_TIMEOUT_S = 60.0  # the dataset is counted in tokens meanwhile
EXPERT_ID = Parameter(query="expert_id", description="The expert's id.")


class FinetuneBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to train: the expert, a dataset version (default: its newest ready one), and a
    config (default: the expert's settings)."""

    expert_id: str
    dataset_id: str | None = None
    config: TrainConfig | None = None
    confirm: bool = False  # a hosted run: its estimate was seen and its cost is accepted
    trigger: Literal["api", "manual"] = "api"  # manual: a person asked for it (the CLI says so)


class FinetuneAccepted(RunView, frozen=True, kw_only=True):
    """The queued run as `GET /api/finetune/{run_id}` shows it, with its id under `run_id`
    too."""

    run_id: str


class FinetuneConfigBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole of an expert's fine-tuning settings (what is left out goes back to its
    default; a hosted provider without `api_key` keeps the key already set)."""

    config: TrainConfig = msgspec.field(default_factory=TrainConfig)
    hosted: HostedInput | None = None
    budget_usd: Usd | None = None


class Progress(msgspec.Struct, frozen=True, kw_only=True):
    """One event of `/api/finetune/{run_id}/progress`: the run's state, and the loss points
    (`points`) recorded since the previous event (all of them in the first)."""

    step: int
    total_steps: int
    loss: float | None
    eval_loss: float | None
    eta_seconds: int | None
    status: str
    queue_position: int | None
    stage: str = ""
    adapter_id: str | None = None
    error: str | None = None
    points: list[LossPoint] = []


@post(
    "/api/finetune",
    summary="Queue a fine-tuning run of an expert",
    description="Answers 202 at once with the queued run; follow"
    " `GET /api/finetune/{run_id}/progress` (SSE) or `GET /api/finetune/{run_id}` until"
    " `status` is succeeded, failed or cancelled. A config value out of range is a 400 naming"
    " the key and the range; too few examples a 422 (`not_enough_data`); a hosted run without"
    " `confirm: true` a 409 (`confirmation_required`) whose detail is its estimate; a hosted run"
    " past the expert's budget a 422 (`over_budget`).",
    status_code=202,
    responses=error_responses(400, 404, 409, 422),
)
async def start(data: FinetuneBody, backend: Backend) -> Response[FinetuneAccepted]:
    cmd = fields_from(StartFinetune, data)
    accepted = await backend.send(cmd)
    view = await backend.ask(GetRun(run_id=accepted.run_id, after_seq=accepted.seq))
    body = FinetuneAccepted(run_id=view.id, **msgspec.structs.asdict(view))
    return Response(body, status_code=202, headers={"Location": f"/api/finetune/{accepted.run_id}"})


list_runs = one_message(
    get,
    "/api/finetune",
    ListRuns,
    name="list_runs",
    query={
        "expert_id": (
            str | None,
            Parameter(default=None, description="Only this expert's runs."),
        ),
        "limit": (int, Parameter(default=50, ge=1, le=200)),
    },
    known=GetExpert,  # an expert that does not exist is a 404, not an empty list
    summary="Fine-tuning runs, newest first (of one expert with `expert_id`)",
    responses=error_responses(400, 404),
)


get_config = one_message(
    get,
    "/api/finetune/config",
    GetFinetuneSettings,
    name="get_config",
    query={"expert_id": (str, EXPERT_ID)},
    summary="An expert's fine-tuning settings, what it has to train on, schedule and spend",
    description="`ranges` gives each config key's smallest and largest value. A hosted"
    " provider's key is never returned, only `hosted.key_set`.",
    responses=error_responses(400, 404),
)


put_config = one_message(
    put,
    "/api/finetune/config",
    ConfigureFinetune,
    name="put_config",
    query={"expert_id": (str, EXPERT_ID)},
    body=FinetuneConfigBody,
    then=GetFinetuneSettings,
    summary="Change an expert's fine-tuning settings (config, hosted provider, budget)",
    description="Replaces the settings; answers them as they are after the change.",
    responses=error_responses(400, 404),
)


@get(
    "/api/finetune/estimate",
    summary="What a run would take: tokens, steps, and cost (hosted) or time (local)",
    responses=error_responses(400, 404, 409, 422),
)
async def estimate(
    backend: Backend,
    expert_id: str = EXPERT_ID,
    dataset_id: str | None = Parameter(default=None, description="Default: the newest ready."),
    backend_name: TrainBackend | None = Parameter(
        query="backend",
        default=None,
        description="Estimate for this backend instead of the configured one.",
    ),
) -> Estimate:
    config = None
    if backend_name is not None:
        settings = await backend.ask(GetFinetuneSettings(expert_id=expert_id))
        config = with_backend(settings.config, backend_name)
    query = EstimateRun(expert_id=expert_id, dataset_id=dataset_id, config=config)
    return await backend.ask(query, timeout=ESTIMATE_TIMEOUT_S)


def with_backend(config: TrainConfig, name: TrainBackend) -> TrainConfig:
    return msgspec.structs.replace(config, backend=name)


get_one = one_message(
    get,
    "/api/finetune/{run_id:str}",
    GetRun,
    name="get_one",
    summary="One run: status, step of total, loss, eval loss, adapter, error, history",
    responses=error_responses(404),
)


cancel = one_message(
    delete,
    "/api/finetune/{run_id:str}",
    CancelFinetune,
    name="cancel",
    then=GetRun,
    summary="Cancel a run that is queued or running",
    description="Answers the run as it is after the cancel; a run that already succeeded or"
    " failed is a 409.",
    status_code=200,
    responses=error_responses(404, 409),
)


@get(
    "/api/finetune/{run_id:str}/progress",
    summary="A run's progress as Server-Sent Events, until it ends",
    description="One event now, then one each time the run changes: `{step, total_steps,"
    " loss, eval_loss, eta_seconds, status, queue_position, stage, adapter_id, error, points}`"
    " where `points` are the loss points recorded since the previous event. The stream ends"
    " after the event whose status is succeeded, failed or cancelled.",
    responses=error_responses(404),
    operation_class=answering(SSE),
)
async def progress(run_id: str, backend: Backend) -> ServerSentEvent:
    await backend.ask(GetRun(run_id=run_id))  # 404 before the stream starts
    events = run_events(backend, STREAM, GetRun, run_id, progress_shown(), queue_moves=True)
    return ServerSentEvent(events)


def progress_shown() -> Callable[[RunView], Progress | None]:
    """Each view of the run as its event, with the loss points since the last event sent;
    nothing when neither the state nor the points changed."""
    sent, last = 0, None

    def shown(view: RunView) -> Progress | None:
        nonlocal sent, last
        event = progress_of(view, sent)
        sent = len(view.history)
        if event == last:
            return None
        last = msgspec.structs.replace(event, points=[])
        return event

    return shown


def progress_of(view: RunView, sent: int) -> Progress:
    return fields_from(Progress, view, points=view.history[sent:])


ROUTES = [start, list_runs, get_config, put_config, estimate, get_one, cancel, progress]
