"""Training datasets of an expert (`/api/experts/{id}/datasets`, `/api/datasets/...`): start a
build (202, then follow it), read versions, review and change examples (each change is a
new version; the one changed stays readable), and download exports as JSONL."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.response import Stream
from msgspec import Meta

from contracts.dataset import (
    BUCKET,
    DEFAULT_MAX_EXAMPLES,
    MAX_EXAMPLES,
    AddExample,
    BuildDataset,
    BuildSpec,
    CancelBuild,
    DatasetView,
    DeleteExample,
    EditExample,
    ExportDataset,
    GetDataset,
    ListExamples,
    ListRejections,
    ManualExample,
    Source,
    Sources,
)
from gateway.backend import Backend
from gateway.dataset import datasets
from gateway.dataset.datasets import EXPORT_TIMEOUT_S, new_version
from gateway.http.downloads import export_download
from gateway.http.errors import error_responses
from gateway.http.fields import fields_from
from gateway.http.openapi import answering
from gateway.http.routes import one_message


class BuildBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to build a dataset from (the shared contract's body, plus manual JSONL)."""

    sources: Sources
    max_examples: Annotated[int, Meta(ge=1, le=MAX_EXAMPLES)] = DEFAULT_MAX_EXAMPLES
    seed: Annotated[int, Meta(ge=0, le=2**31 - 1)] = 0
    manual_jsonl: str | None = None  # one {"question", "answer"} object a line


class DatasetAccepted(msgspec.Struct, frozen=True, kw_only=True):
    dataset_id: str
    version: int
    status: str


class ExampleChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    question: str | None = None
    answer: str | None = None
    tags: list[str] | None = None


@post(
    "/api/experts/{expert_id:str}/datasets",
    summary="Build a training dataset from the expert's sources",
    description="Answers 202 at once; follow `GET /api/datasets/{dataset_id}` (or the"
    " `dataset` topic of `/api/events`) until `status` is ready or failed.",
    status_code=202,
    responses=error_responses(400, 404),
)
async def build(expert_id: str, data: BuildBody, backend: Backend) -> Response[DatasetAccepted]:
    spec = BuildSpec(sources=data.sources, max_examples=data.max_examples, seed=data.seed)
    cmd = BuildDataset(expert_id=expert_id, spec=spec, manual_jsonl=data.manual_jsonl)
    view = await new_version(backend, cmd)
    return Response(
        DatasetAccepted(dataset_id=view.id, version=view.version, status=view.status),
        status_code=202,
        headers={"Location": f"/api/datasets/{view.id}"},
    )


@get(
    "/api/experts/{expert_id:str}/datasets",
    summary="The expert's dataset versions, newest first",
    responses=error_responses(404),
)
async def list_datasets(expert_id: str, backend: Backend) -> list[DatasetView]:
    return await datasets.list_datasets(backend, expert_id)


get_dataset = one_message(
    get,
    "/api/datasets/{dataset_id:str}",
    GetDataset,
    name="get_dataset",
    summary="One dataset version: status, counts per split and source, rejections by reason",
    responses=error_responses(404),
)


cancel = one_message(
    post,
    "/api/datasets/{dataset_id:str}/cancel",
    CancelBuild,
    name="cancel",
    then=GetDataset,
    summary="Stop a build that is still running",
    status_code=200,
    responses=error_responses(404, 409),
)


examples = one_message(
    get,
    "/api/datasets/{dataset_id:str}/examples",
    ListExamples,
    name="examples",
    query={
        "split": (Literal["train", "val"] | None, Parameter(default=None)),
        "source": (Source | None, Parameter(default=None)),
        "limit": (int, Parameter(default=100, ge=1, le=500)),
        "offset": (int, Parameter(default=0, ge=0)),
    },
    summary="The version's examples, for review",
    responses=error_responses(404, 409),
)


@post(
    "/api/datasets/{dataset_id:str}/examples",
    summary="Add an example by hand (makes a new version)",
    status_code=201,
    responses=error_responses(400, 404, 409),
)
async def add_example(dataset_id: str, data: ManualExample, backend: Backend) -> DatasetView:
    cmd = AddExample(dataset_id=dataset_id, example=data)
    return await new_version(backend, cmd)


@patch(
    "/api/datasets/{dataset_id:str}/examples/{example_id:str}",
    summary="Edit an example (makes a new version)",
    responses=error_responses(400, 404, 409),
)
async def edit_example(
    dataset_id: str, example_id: str, data: ExampleChange, backend: Backend
) -> DatasetView:
    cmd = fields_from(EditExample, data, dataset_id=dataset_id, example_id=example_id)
    return await new_version(backend, cmd)


@delete(
    "/api/datasets/{dataset_id:str}/examples/{example_id:str}",
    summary="Delete an example (makes a new version)",
    status_code=200,
    responses=error_responses(404, 409),
)
async def delete_example(dataset_id: str, example_id: str, backend: Backend) -> DatasetView:
    cmd = DeleteExample(dataset_id=dataset_id, example_id=example_id)
    return await new_version(backend, cmd)


rejections = one_message(
    get,
    "/api/datasets/{dataset_id:str}/rejections",
    ListRejections,
    name="rejections",
    summary="Every candidate that did not make it, and why",
    responses=error_responses(404),
)


@get(
    "/api/datasets/{dataset_id:str}/export",
    summary="Download a split as JSONL: chat (OpenAI fine-tuning), alpaca, or preference pairs",
    responses=error_responses(404, 409),
    operation_class=answering("application/jsonl"),
)
async def export(
    dataset_id: str,
    backend: Backend,
    format: Literal["chat", "alpaca", "preference"] = Parameter(default="chat"),
    split: Literal["train", "val"] = Parameter(default="train"),
) -> Stream:
    query = ExportDataset(dataset_id=dataset_id, format=format, split=split)
    ready = await backend.ask(query, timeout=EXPORT_TIMEOUT_S)
    return await export_download(backend, BUCKET, ready, "application/jsonl")


ROUTES = [
    build,
    list_datasets,
    get_dataset,
    cancel,
    examples,
    add_example,
    edit_example,
    delete_example,
    rejections,
    export,
]
