"""The benchmark context: does an adapter make the expert better? The JSON API (`api`: runs,
progress, results, summary, settings, diagnosis, export; `api_questions`: the question sets),
custom questions as people write them (`questions`), the export's rows (`export`), and the
console's dashboard and run page (`pages`) and question editor and diagnosis
(`question_pages`); `forms` are what their forms become, `views` how runs are shown, `runs`
what the context adds to its queries."""

from __future__ import annotations

from gateway.benchmark import api, pages, question_pages
from gateway.http.routes import tagged

ROUTES = [
    tagged("benchmarks", api.ROUTES),  # /api/benchmark (runs, SSE, results, questions, summary)
    *pages.ROUTES,  # /experts/{id}/benchmark (dashboard), /benchmark/{run}, /ui/benchmark/...
    *question_pages.ROUTES,  # /experts/{id}/benchmark/questions|diagnosis
]
