"""The benchmark context: does an adapter make the expert better? Question sets, scored runs,
the composite score, before/after comparisons, and promotion gated on the evidence.

Two aggregates.
- An expert's *bench* (`bench`, keyed by the expert id): its settings (promote only if
  better, by what margin, the schedule), its own question sets — custom questions and the set
  generated from its knowledge base — and the decisions taken on runs' results: a promotion
  made or held back (and why), a regression noticed.
- A *run* (`run`, keyed by the run id): the questions it asks (fixed when it is queued), each
  question's scored result as it comes (so a run resumes where it stopped), then one ending:
  `BenchmarkCompleted` with its metrics, `BenchmarkFailed` or `BenchmarkCancelled`. Scoring
  an old run again with a newer scorer appends `BenchmarkRescored`; nothing is overwritten.

Every result records the scorer and its version. The composite score's formula is
`COMPOSITE_FORMULA`, shown on the dashboard.
"""

from contracts.benchmark.events import *  # noqa: F403
from contracts.benchmark.messages import *  # noqa: F403
from contracts.benchmark.replies import *  # noqa: F403
from contracts.benchmark.values import *  # noqa: F403
