"""The benchmark context's commands and queries, each with its subject and reply."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from contracts.base import Command, Query
from contracts.benchmark.values import BenchSettings, Question, Size, Suite, Trigger
from contracts.rules import Token, items, line

# ---- commands ------------------------------------------------------------------------------


class StartBenchmark(Command, frozen=True, kw_only=True, tag="benchmark.StartBenchmark"):
    subject = "cmd.benchmark.start"
    reply = "BenchAccepted"

    expert_id: Token
    suite: Suite = "builtin"
    size: Size = "quick"
    adapter_id: Token | None = None  # None: the active one; "base": the base model
    trigger: Trigger = "api"


class CancelBenchmark(Command, frozen=True, kw_only=True, tag="benchmark.CancelBenchmark"):
    subject = "cmd.benchmark.cancel"
    reply = "Accepted"

    run_id: Token


class ConfigureBench(Command, frozen=True, kw_only=True, tag="benchmark.ConfigureBench"):
    subject = "cmd.benchmark.configure"
    reply = "Accepted"

    expert_id: Token
    settings: BenchSettings


class AddQuestions(Command, frozen=True, kw_only=True, tag="benchmark.AddQuestions"):
    subject = "cmd.benchmark.add_questions"
    reply = "Accepted"

    expert_id: Token
    questions: items(Question, 500)


class RemoveQuestion(Command, frozen=True, kw_only=True, tag="benchmark.RemoveQuestion"):
    subject = "cmd.benchmark.remove_question"
    reply = "Accepted"

    expert_id: Token
    question_id: Token


class GenerateExpertSet(Command, frozen=True, kw_only=True, tag="benchmark.GenerateExpertSet"):
    subject = "cmd.benchmark.generate_set"
    reply = "Accepted"

    expert_id: Token
    count: Annotated[int, Meta(ge=1, le=200)] = 50


class RescoreBenchmark(Command, frozen=True, kw_only=True, tag="benchmark.RescoreBenchmark"):
    """Score a finished run's answers again with the current scorer."""

    subject = "cmd.benchmark.rescore"
    reply = "Accepted"

    run_id: Token


class Diagnose(Command, frozen=True, kw_only=True, tag="benchmark.Diagnose"):
    """Run the expert's own set closed book, with retrieval, and with the adapter."""

    subject = "cmd.benchmark.diagnose"
    reply = "DiagnosisView"

    expert_id: Token
    size: Size = "quick"


# ---- queries -------------------------------------------------------------------------------


class GetBenchmark(Query, frozen=True, kw_only=True, tag="benchmark.GetBenchmark"):
    subject = "qry.benchmark.run"
    reply = "BenchmarkView"

    run_id: Token


class ListBenchmarks(Query, frozen=True, kw_only=True, tag="benchmark.ListBenchmarks"):
    subject = "qry.benchmark.runs"
    reply = "BenchmarkList"

    expert_id: Token
    adapter_id: Token | None = None
    since: line(40) | None = None
    until: line(40) | None = None
    limit: Annotated[int, Meta(ge=1, le=5000)] = 200


class GetResults(Query, frozen=True, kw_only=True, tag="benchmark.GetResults"):
    subject = "qry.benchmark.results"
    reply = "BenchmarkResults"

    run_id: Token


class ListQuestions(Query, frozen=True, kw_only=True, tag="benchmark.ListQuestions"):
    subject = "qry.benchmark.questions"
    reply = "QuestionList"

    expert_id: Token
    suite: Suite | None = None


class GetSummary(Query, frozen=True, kw_only=True, tag="benchmark.GetSummary"):
    subject = "qry.benchmark.summary"
    reply = "BenchSummary"

    expert_id: Token
    adapter_id: Token | None = None
    since: line(40) | None = None
    until: line(40) | None = None


class GetDiagnosis(Query, frozen=True, kw_only=True, tag="benchmark.GetDiagnosis"):
    subject = "qry.benchmark.diagnosis"
    reply = "DiagnosisView"

    expert_id: Token
