"""The fine-tuning context in the console: an expert's dashboard and a run's page (`pages`);
`forms` are what their forms become, `views` how runs, estimates and settings are shown.
"""

from __future__ import annotations

from gateway.console.finetune import pages

ROUTES = pages.ROUTES  # /experts/{id}/finetune (dashboard, run now, settings), /finetune/{run}
