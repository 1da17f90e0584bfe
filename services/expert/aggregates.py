"""The expert context's two aggregate types over `domain`: the expert (profile and model
backend) and the answer (given, scored, rated)."""

from __future__ import annotations

from contracts import answers, expert
from runtime.aggregate import AggregateType
from services.expert.domain import answers as answer_domain
from services.expert.domain import profile as profile_domain

EXPERT = AggregateType(
    expert.CONTEXT, expert.AGGREGATE, profile_domain.INITIAL, profile_domain.evolve
)
ANSWER = AggregateType(
    expert.CONTEXT, answers.AGGREGATE, answer_domain.INITIAL, answer_domain.evolve
)
