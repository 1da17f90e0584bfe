"""The datasets context in the console: the builder of an expert's training data with its
versions (`pages`), and one version's review page (`review`); `forms` are what their forms
become, `views` how versions and examples are shown.
"""

from __future__ import annotations

from gateway.console.datasets import pages, review

ROUTES = [
    *pages.ROUTES,  # /experts/{id}/datasets (builder, versions), /ui/datasets/{id}/cancel
    *review.ROUTES,  # /datasets/{id} (review), /ui/datasets/{id}/examples[/{ex}]
]
