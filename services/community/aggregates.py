"""The community context's aggregate types over `domain`: a person's template, the template
an expert answers with, and a registry template (under the registry tenant)."""

from __future__ import annotations

from contracts.community import APPLIED, CONTEXT, PUBLISHED, TEMPLATE
from runtime.aggregate import AggregateType
from services.community.domain import applied, published, template

TEMPLATES = AggregateType(CONTEXT, TEMPLATE, template.INITIAL, template.evolve)
APPLICATIONS = AggregateType(CONTEXT, APPLIED, applied.INITIAL, applied.evolve)
REGISTRY = AggregateType(CONTEXT, PUBLISHED, published.INITIAL, published.evolve)
