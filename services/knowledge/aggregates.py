"""The knowledge context's aggregate type: a document's place in the index (`domain`)."""

from __future__ import annotations

from contracts.knowledge import AGGREGATE, CONTEXT
from runtime.aggregate import AggregateType
from services.knowledge import domain

INDEX = AggregateType(CONTEXT, AGGREGATE, domain.INITIAL, domain.evolve)
