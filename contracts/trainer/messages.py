"""The trainer context's commands and queries, each with its subject and reply (a command
that names none answers `Accepted`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from contracts.base import Query
from contracts.rules import Token, line
from contracts.scoped import ExpertCommand, ExpertQuery, RunCommand, RunQuery
from contracts.trainer.values import TrainConfig, Trigger, Usd

# ---- commands ------------------------------------------------------------------------------


class HostedInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    base_url: line(500, min_length=1)
    model: line(200, min_length=1)
    price_per_million_tokens_usd: Annotated[float, Meta(ge=0, le=10_000)] = 0.0
    api_key: line(400) | None = None  # None keeps the key set for the same base_url


class ConfigureFinetune(ExpertCommand, frozen=True, kw_only=True, tag="trainer.ConfigureFinetune"):
    subject = "cmd.trainer.configure"

    config: TrainConfig = msgspec.field(default_factory=TrainConfig)
    hosted: HostedInput | None = None
    budget_usd: Usd | None = None


class StartFinetune(ExpertCommand, frozen=True, kw_only=True, tag="trainer.StartFinetune"):
    """Queue a run. `config` None uses the expert's settings; a hosted run must carry
    `confirm: true` once its estimate has been seen."""

    subject = "cmd.trainer.start"
    reply = "RunAccepted"

    dataset_id: Token | None = None  # None: the expert's newest ready dataset
    config: TrainConfig | None = None
    confirm: bool = False
    trigger: Trigger = "api"


class CancelFinetune(RunCommand, frozen=True, kw_only=True, tag="trainer.CancelFinetune"):
    subject = "cmd.trainer.cancel"


# ---- queries -------------------------------------------------------------------------------


class GetRun(RunQuery, frozen=True, kw_only=True, tag="trainer.GetRun"):
    subject = "qry.trainer.run"
    reply = "RunView"


class ListRuns(Query, frozen=True, kw_only=True, tag="trainer.ListRuns"):
    subject = "qry.trainer.runs"
    reply = "RunList"

    expert_id: Token | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50


class GetFinetuneSettings(
    ExpertQuery, frozen=True, kw_only=True, tag="trainer.GetFinetuneSettings"
):
    subject = "qry.trainer.settings"
    reply = "FinetuneSettings"


class EstimateRun(ExpertQuery, frozen=True, kw_only=True, tag="trainer.EstimateRun"):
    subject = "qry.trainer.estimate"
    reply = "Estimate"

    dataset_id: Token | None = None
    config: TrainConfig | None = None
