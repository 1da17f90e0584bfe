"""Wiring of the expert service: profiles, model backends, answers, traces, the scorer."""

from __future__ import annotations

from contracts.answers import (
    Ask,
    Complete,
    ConfigureBackend,
    GetAnswer,
    GetBackend,
    GetPersona,
    GiveFeedback,
    ListTraces,
    RescoreAnswers,
    TestBackend,
)
from contracts.expert import CreateExpert, DeleteExpert, GetExpert, ListExperts, UpdateExpert
from runtime.secrets import SecretBox
from runtime.service import ServiceHost
from services.expert.answer_handlers import AnswerHandlers
from services.expert.asking import Answering
from services.expert.backends import Backends
from services.expert.deployments import DeploymentsProjection
from services.expert.handlers import ExpertHandlers
from services.expert.projections import ExpertsProjection
from services.expert.scorer_policy import SUBJECT, Scorer
from services.expert.traces import TracesProjection

NAME = "expert"


async def build(host: ServiceHost) -> None:
    secrets = SecretBox.open(host.settings.home, host.settings.secret_key)
    backends = Backends(host.settings, secrets)
    host.on_stop(backends.close)
    handlers = ExpertHandlers(host)
    answers = AnswerHandlers(host, backends, secrets)
    answering, scorer = Answering(host, backends), Scorer(host)
    host.project(ExpertsProjection())
    host.project(TracesProjection())
    host.project(DeploymentsProjection())
    host.react("expert.score", "EXPERT", scorer.on_answer, subject=SUBJECT)
    host.endpoints.serve(CreateExpert, handlers.create)
    host.endpoints.serve(UpdateExpert, handlers.update)
    host.endpoints.serve(DeleteExpert, handlers.delete)
    host.endpoints.serve(GetExpert, handlers.get)
    host.endpoints.serve(ListExperts, handlers.list)
    host.endpoints.serve(Ask, answering.ask)
    host.endpoints.serve(GiveFeedback, answers.feedback)
    host.endpoints.serve(ConfigureBackend, answers.configure_backend)
    host.endpoints.serve(RescoreAnswers, scorer.rescore)
    host.endpoints.serve(GetAnswer, answers.get_answer)
    host.endpoints.serve(ListTraces, answers.list_traces)
    host.endpoints.serve(GetBackend, answers.get_backend)
    host.endpoints.serve(TestBackend, answers.test_backend)
    host.endpoints.serve(GetPersona, answers.persona)
    host.endpoints.serve(Complete, answers.complete)
