"""The expert context's two aggregate types: the expert (profile and model backend) and the
answer (given, scored, rated)."""

from __future__ import annotations

from contracts import answers
from contracts.expert import AGGREGATE, CONTEXT
from runtime.aggregate import AggregateType
from services.expert import answer_domain, domain

EXPERT = AggregateType(CONTEXT, AGGREGATE, domain.INITIAL, domain.evolve)
ANSWER = AggregateType(CONTEXT, answers.AGGREGATE, answer_domain.INITIAL, answer_domain.evolve)
