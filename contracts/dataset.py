"""The dataset context: versioned training sets built from an expert's documents, its best
answers, people's edits and hand-written examples.

Two aggregates. The expert's *line* of datasets (`line`, keyed by the expert id) hands out
version numbers: every new version — a build, or an edit of an earlier version — is one
event on it, so two versions never share a number. Each version (`dataset`, keyed by its
dataset id) then records how its build went. A version's examples are a JSONL object in
the `datasets` bucket, named by its sha256: a version never changes; an edit makes a new
version whose parent is the one edited.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from contracts.answers import Citation
from contracts.base import Command, Download, Event, ObjectRef, Query, Reply
from contracts.rules import Count, Token, items, line, prose
from contracts.scoped import ExpertCommand, ExpertFact, ExpertQuery

CONTEXT = "dataset"
STREAM = "DATASET"
LINE = "line"
AGGREGATE = "dataset"
BUCKET = "datasets"

Source = Literal["knowledge", "traces", "feedback", "manual"]
Role = Literal["system", "user", "assistant"]
Reason = line(500)
Text = prose(20_000)
MAX_EXAMPLES = 5_000
DEFAULT_MAX_EXAMPLES = 500
MAX_MANUAL = 500
MAX_MANUAL_JSONL = 99_000  # characters: every text on the log stays under 100k


class Message(msgspec.Struct, frozen=True, kw_only=True):
    role: Role
    content: Text


class Provenance(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where an example came from: a passage of a document, or an answer."""

    document_id: Token | None = None
    filename: line(255) | None = None
    page: Annotated[int, Meta(ge=1)] | None = None
    chunk_id: line(200) | None = None
    answer_id: Token | None = None


class TrainingExample(msgspec.Struct, frozen=True, kw_only=True):
    """One example, the fixed schema every source produces and every export reads."""

    id: Token
    messages: items(Message, 64)
    source: Source
    tags: items(line(60, min_length=1), 20) = []
    provenance: Provenance = msgspec.field(default_factory=Provenance)
    citations: items(Citation, 20) = []
    score: Annotated[float, Meta(ge=0, le=10)] | None = None
    rejected: Text | None = None  # preference pairs: the answer a person replaced
    split: Literal["train", "val"] = "train"


class ManualExample(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An example a person writes: a question and the answer they want."""

    question: Text
    answer: Text
    tags: items(line(60, min_length=1), 20) = []


class KnowledgeSource(msgspec.Struct, frozen=True, kw_only=True):
    questions: Annotated[int, Meta(ge=1, le=MAX_EXAMPLES)] = 100
    generator: Literal["auto", "offline", "backend"] = "auto"


class TracesSource(msgspec.Struct, frozen=True, kw_only=True):
    min_quality: Annotated[float, Meta(ge=0, le=10)] = 8.0
    min_rating: Annotated[int, Meta(ge=1, le=5)] = 4


class Sources(msgspec.Struct, frozen=True, kw_only=True):
    knowledge: KnowledgeSource | None = None
    traces: TracesSource | None = None
    feedback: bool = False
    manual: items(ManualExample, MAX_MANUAL) = []


class BuildSpec(msgspec.Struct, frozen=True, kw_only=True):
    sources: Sources
    max_examples: Annotated[int, Meta(ge=1, le=MAX_EXAMPLES)] = DEFAULT_MAX_EXAMPLES
    seed: Annotated[int, Meta(ge=0, le=2**31 - 1)] = 0


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """A candidate that did not make it, and why (a reason code and a sentence)."""

    source: Source
    code: line(40, min_length=1)  # too_long | empty | duplicate | banned_topic | low_score | ...
    detail: Reason
    question: line(300) = ""


class Counts(msgspec.Struct, frozen=True, kw_only=True):
    train: Count = 0
    val: Count = 0
    by_source: dict[str, int] = {}
    rejected: dict[str, int] = {}  # reason code -> candidates


# ---- events --------------------------------------------------------------------------------


class DatasetFact(Event, frozen=True, kw_only=True, tag=False):
    """An event on one version: how its build went."""

    dataset_id: Token


class DatasetVersion(DatasetFact, frozen=True, kw_only=True, tag=False):
    """An event on the expert's line that hands out version `version` as `dataset_id`: the
    line's events carry all three, so its projection numbers versions without a lookup."""

    expert_id: Token
    version: Annotated[int, Meta(ge=1)]


class DatasetBuildRequested(
    DatasetVersion, frozen=True, kw_only=True, tag="dataset.DatasetBuildRequested"
):
    """On the expert's line: version `version` is to be built as `dataset_id`."""

    personal: ClassVar[tuple[str, ...]] = ("spec",)

    spec: BuildSpec


class DatasetRevised(DatasetVersion, frozen=True, kw_only=True, tag="dataset.DatasetRevised"):
    """On the expert's line: version `version` is `parent` with one change, already stored."""

    parent: Token
    change: Literal["edited", "deleted", "added"]
    example_id: Token
    content: ObjectRef
    counts: Counts
    min_examples: Count


class DatasetBuildProgressed(
    DatasetFact, frozen=True, kw_only=True, tag="dataset.DatasetBuildProgressed"
):
    stage: line(60)
    done: Count
    total: Count


class DatasetBuilt(DatasetFact, frozen=True, kw_only=True, tag="dataset.DatasetBuilt"):
    expert_id: Token
    content: ObjectRef  # JSONL of TrainingExample, sha256-named
    rejections: ObjectRef  # JSONL of Rejection
    counts: Counts
    min_examples: Count  # FINETUNE_MIN_TRACES when it was built


class DatasetBuildFailed(DatasetFact, frozen=True, kw_only=True, tag="dataset.DatasetBuildFailed"):
    reason: Reason


class DatasetBuildCancelled(
    DatasetFact, frozen=True, kw_only=True, tag="dataset.DatasetBuildCancelled"
):
    pass


class DatasetsErased(ExpertFact, frozen=True, kw_only=True, tag="dataset.DatasetsErased"):
    """On the expert's line: the expert was deleted; every version of it is gone, with its
    examples, rejections and exports."""


DatasetEvent = (
    DatasetBuildRequested
    | DatasetRevised
    | DatasetBuildProgressed
    | DatasetBuilt
    | DatasetBuildFailed
    | DatasetBuildCancelled
    | DatasetsErased
)


# ---- commands ------------------------------------------------------------------------------


class DatasetCommand(Command, frozen=True, kw_only=True, tag=False):
    """A command about one version (it knows its expert)."""

    dataset_id: Token


class ExampleCommand(DatasetCommand, frozen=True, kw_only=True, tag=False):
    """A command about one example of a version. A version never changes: what these do
    is a new version, whose parent is the one named."""

    example_id: Token


class BuildDataset(ExpertCommand, frozen=True, kw_only=True, tag="dataset.BuildDataset"):
    subject = "cmd.dataset.build"

    spec: BuildSpec
    manual_jsonl: prose(MAX_MANUAL_JSONL) | None = None  # more manual examples, one per line


class CancelBuild(DatasetCommand, frozen=True, kw_only=True, tag="dataset.CancelBuild"):
    subject = "cmd.dataset.cancel"


class EditExample(ExampleCommand, frozen=True, kw_only=True, tag="dataset.EditExample"):
    """Change an example of a version: the result is a new version."""

    subject = "cmd.dataset.edit_example"

    question: Text | None = None
    answer: Text | None = None
    tags: items(line(60, min_length=1), 20) | None = None


class DeleteExample(ExampleCommand, frozen=True, kw_only=True, tag="dataset.DeleteExample"):
    subject = "cmd.dataset.delete_example"


class AddExample(DatasetCommand, frozen=True, kw_only=True, tag="dataset.AddExample"):
    subject = "cmd.dataset.add_example"

    example: ManualExample


# ---- queries -------------------------------------------------------------------------------


class DatasetQuery(Query, frozen=True, kw_only=True, tag=False):
    """A query about one version (it knows its expert)."""

    dataset_id: Token


class GetDataset(DatasetQuery, frozen=True, kw_only=True, tag="dataset.GetDataset"):
    subject = "qry.dataset.get"
    reply = "DatasetView"


class ListDatasets(ExpertQuery, frozen=True, kw_only=True, tag="dataset.ListDatasets"):
    subject = "qry.dataset.list"
    reply = "DatasetList"


class ListExamples(DatasetQuery, frozen=True, kw_only=True, tag="dataset.ListExamples"):
    subject = "qry.dataset.examples"
    reply = "ExamplePage"

    split: Literal["train", "val"] | None = None
    source: Source | None = None
    limit: Annotated[int, Meta(ge=1, le=500)] = 100
    offset: Annotated[int, Meta(ge=0)] = 0


class ListRejections(DatasetQuery, frozen=True, kw_only=True, tag="dataset.ListRejections"):
    subject = "qry.dataset.rejections"
    reply = "RejectionList"


class ExportDataset(DatasetQuery, frozen=True, kw_only=True, tag="dataset.ExportDataset"):
    subject = "qry.dataset.export"
    reply = "ExportReady"

    format: Literal["chat", "alpaca", "preference"] = "chat"
    split: Literal["train", "val"] = "train"


# ---- replies -------------------------------------------------------------------------------


class DatasetView(Reply, frozen=True, kw_only=True):
    id: str
    expert_id: str
    version: int
    parent: str | None
    status: str  # building | ready | failed | cancelled
    train_examples: int
    val_examples: int
    sources: dict[str, int]
    rejected: dict[str, int]
    sha256: str | None
    ready_for_training: bool  # at least min_examples examples
    min_examples: int
    progress: dict[str, int] = {}  # stage, done, total while building
    stage: str | None = None
    reason: str | None = None
    content: ObjectRef | None = None
    created_at: str = ""
    updated_at: str = ""


class DatasetList(Reply, frozen=True, kw_only=True):
    datasets: list[DatasetView]


class ExamplePage(Reply, frozen=True, kw_only=True):
    examples: list[TrainingExample]
    total: int


class RejectionList(Reply, frozen=True, kw_only=True):
    rejections: list[Rejection]


class ExportReady(Download, frozen=True, kw_only=True):
    lines: int  # examples in the JSONL, which lies in the datasets bucket
