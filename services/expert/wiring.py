"""Wiring of the expert service, by half: the profile (experts, their model backends) and
the answers (asking, feedback, traces, the scorer)."""

from __future__ import annotations

from contracts.expert import AGGREGATE as EXPERTS
from contracts.expert import ExpertDeleted
from runtime.erasure import AfterErased, TenantErasure
from runtime.keyring import ProviderKeys
from runtime.service import ServiceHost
from services.expert.answering.asking import Answering
from services.expert.answering.completion import Completions
from services.expert.backends import Backends
from services.expert.commands import AnswerCommands, ProfileCommands
from services.expert.forgotten import tenant_paths
from services.expert.projections import DeploymentsProjection, ExpertsProjection, TracesProjection
from services.expert.queries import AnswerQueries, ProfileQueries
from services.expert.reactors import SUBJECT, Scorer
from services.expert.templates import TemplatesProjection

NAME = "expert"


async def build(host: ServiceHost) -> None:
    keys = ProviderKeys.of(host.settings, host.engine)  # API keys sealed per tenant
    backends = Backends(host.settings, keys)
    host.on_stop(backends.close)
    scorer = Scorer(host)
    host.project(ExpertsProjection())
    host.project(TracesProjection())
    host.project(DeploymentsProjection())
    host.project(TemplatesProjection())  # the template each expert answers with
    host.react("expert.score", host.stream, scorer.on_answer, subject=SUBJECT)

    profiles, experts = ProfileCommands(host, keys), ProfileQueries(host)
    answers, traces = AnswerCommands(host, scorer), AnswerQueries(host)
    answering, completions = Answering(host, backends), Completions(host, backends)
    # a forgotten person's experts, traces, and the adapter copies answered with
    TenantErasure(host, paths=tenant_paths(host.settings.home)).wire()
    # what an erasure dropped from the views: no copy left in pages or WAL
    AfterErased(host, EXPERTS, (ExpertDeleted,), ("experts", "traces")).wire()
    host.endpoints.serve_handlers(profiles, experts, answers, traces, answering, completions)
