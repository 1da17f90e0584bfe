"""The benchmark context's commands and queries, each with its subject and reply (a
command that names none answers `Accepted`)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from contracts.benchmark.values import BenchSettings, Question, Size, Suite, Trigger
from contracts.rules import Token, items, line
from contracts.scoped import ExpertCommand, ExpertQuery, RunCommand, RunQuery

# ---- commands ------------------------------------------------------------------------------


class StartBenchmark(ExpertCommand, frozen=True, kw_only=True, tag="benchmark.StartBenchmark"):
    subject = "cmd.benchmark.start"
    reply = "BenchAccepted"

    suite: Suite = "builtin"
    size: Size = "quick"
    adapter_id: Token | None = None  # None: the active one; "base": the base model
    trigger: Trigger = "api"


class CancelBenchmark(RunCommand, frozen=True, kw_only=True, tag="benchmark.CancelBenchmark"):
    subject = "cmd.benchmark.cancel"


class ConfigureBench(ExpertCommand, frozen=True, kw_only=True, tag="benchmark.ConfigureBench"):
    subject = "cmd.benchmark.configure"

    settings: BenchSettings


class AddQuestions(ExpertCommand, frozen=True, kw_only=True, tag="benchmark.AddQuestions"):
    subject = "cmd.benchmark.add_questions"

    questions: items(Question, 500)


class RemoveQuestion(ExpertCommand, frozen=True, kw_only=True, tag="benchmark.RemoveQuestion"):
    subject = "cmd.benchmark.remove_question"

    question_id: Token


class GenerateExpertSet(
    ExpertCommand, frozen=True, kw_only=True, tag="benchmark.GenerateExpertSet"
):
    subject = "cmd.benchmark.generate_set"

    count: Annotated[int, Meta(ge=1, le=200)] = 50


class RescoreBenchmark(RunCommand, frozen=True, kw_only=True, tag="benchmark.RescoreBenchmark"):
    """Score a finished run's answers again with the current scorer."""

    subject = "cmd.benchmark.rescore"


class Diagnose(ExpertCommand, frozen=True, kw_only=True, tag="benchmark.Diagnose"):
    """Run the expert's own set closed book, with retrieval, and with the adapter."""

    subject = "cmd.benchmark.diagnose"
    reply = "DiagnosisView"

    size: Size = "quick"


# ---- queries -------------------------------------------------------------------------------


class GetBenchmark(RunQuery, frozen=True, kw_only=True, tag="benchmark.GetBenchmark"):
    subject = "qry.benchmark.run"
    reply = "BenchmarkView"


class RunsWindow(ExpertQuery, frozen=True, kw_only=True, tag=False):
    """A query over the expert's runs of one adapter (None: every one; "base": the base
    model) queued in a window of time (ISO dates or times, either end open): the list and
    the summary of the dashboard read the same runs, by the same filter."""

    adapter_id: Token | None = None
    since: line(40) | None = None
    until: line(40) | None = None


class ListBenchmarks(RunsWindow, frozen=True, kw_only=True, tag="benchmark.ListBenchmarks"):
    subject = "qry.benchmark.runs"
    reply = "BenchmarkList"

    limit: Annotated[int, Meta(ge=1, le=5000)] = 200


class GetResults(RunQuery, frozen=True, kw_only=True, tag="benchmark.GetResults"):
    subject = "qry.benchmark.results"
    reply = "BenchmarkResults"


class ListQuestions(ExpertQuery, frozen=True, kw_only=True, tag="benchmark.ListQuestions"):
    subject = "qry.benchmark.questions"
    reply = "QuestionList"

    suite: Suite | None = None


class GetSummary(RunsWindow, frozen=True, kw_only=True, tag="benchmark.GetSummary"):
    subject = "qry.benchmark.summary"
    reply = "BenchSummary"


class GetDiagnosis(ExpertQuery, frozen=True, kw_only=True, tag="benchmark.GetDiagnosis"):
    subject = "qry.benchmark.diagnosis"
    reply = "DiagnosisView"
