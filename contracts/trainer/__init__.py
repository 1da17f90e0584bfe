"""The trainer context: fine-tuning runs that turn a dataset version into a LoRA adapter.

Three aggregates. An expert's *line* of runs (`line`, keyed by the expert id) hands out run
numbers and holds the hosted spend committed so far, so two runs never share a number and
two hosted runs cannot both slip under the budget. Each run (`run`, keyed by its run id)
records how it went: started, progress, checkpoints, then one ending — `AdapterTrained`,
`RunFailed` or `RunCancelled`. An expert's fine-tuning *settings* (`settings`, keyed by the
expert id) hold its training config, its hosted provider and its budget, and the scheduler's
skipped ticks.

Every range a person may set is declared once, in `RANGES`; the config rejects a value
outside it with a sentence naming the key and the range (a 400 at the gateway).
"""

from contracts.trainer.events import *  # noqa: F403
from contracts.trainer.messages import *  # noqa: F403
from contracts.trainer.replies import *  # noqa: F403
from contracts.trainer.values import *  # noqa: F403
