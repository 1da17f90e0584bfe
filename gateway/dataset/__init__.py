"""The dataset context: an expert's training data. The JSON API (`api`: build, versions,
review, export), the console's builder with its versions (`pages`) and one version's review
page (`review`); `forms` are what their forms become, `views` how versions and examples are
shown, `datasets` what the context adds to its queries."""

from __future__ import annotations

from gateway.dataset import api, pages, review
from gateway.http.routes import tagged

ROUTES = [
    tagged("datasets", api.ROUTES),  # /api/experts/{id}/datasets, /api/datasets/{id}/...
    *pages.ROUTES,  # /experts/{id}/datasets (builder, versions), /ui/datasets/{id}/cancel
    *review.ROUTES,  # /datasets/{id} (review), /ui/datasets/{id}/examples[/{ex}]
]
