"""The dataset context's two aggregate types: an expert's line of versions, one version's
build."""

from __future__ import annotations

from contracts.dataset import AGGREGATE, CONTEXT, LINE
from runtime.aggregate import AggregateType
from services.dataset import domain

LINES = AggregateType(CONTEXT, LINE, domain.LINE, domain.evolve_line)
BUILD = AggregateType(CONTEXT, AGGREGATE, domain.BUILD, domain.evolve_build)
