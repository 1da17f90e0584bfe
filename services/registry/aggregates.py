"""The registry's aggregate types: an expert's versions, and its audit notes of refusals."""

from __future__ import annotations

from contracts.registry import CONTEXT, VERSIONS
from runtime.aggregate import AggregateType
from services.registry import domain

EXPERT_VERSIONS = AggregateType(CONTEXT, VERSIONS, domain.INITIAL, domain.evolve)
