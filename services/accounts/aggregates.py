"""The accounts context's aggregate type: a user (`domain`), under the user's own tenant."""

from __future__ import annotations

from contracts.accounts import AGGREGATE, CONTEXT
from runtime.aggregate import AggregateType
from services.accounts import domain

USER = AggregateType(CONTEXT, AGGREGATE, domain.INITIAL, domain.evolve)
