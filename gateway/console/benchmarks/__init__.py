"""The benchmark context in the console: an expert's dashboard, its question sets, its
diagnosis and a run's page (`pages`); `forms` are what their forms become, `views` how runs,
comparisons, alerts and chart data are shown.
"""

from __future__ import annotations

from gateway.console.benchmarks import pages

ROUTES = pages.ROUTES  # /experts/{id}/benchmarks[/questions|/diagnosis], /benchmarks/{run}, /ui/...
