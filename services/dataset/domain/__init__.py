"""The dataset context's aggregates, pure: an expert's line of versions (`line.py`: who gets
which version number) and one version's build (`build.py`: building → ready | failed |
cancelled). The names of both are here, so a caller reads `domain.next_version`."""

from services.dataset.domain.build import (
    BUILD,
    BuildState,
    decide_cancel,
    decide_end,
    evolve_build,
    still_building,
)
from services.dataset.domain.line import (
    LINE,
    LineState,
    check_unrevised,
    evolve_line,
    next_version,
)

__all__ = [
    "BUILD",
    "LINE",
    "BuildState",
    "LineState",
    "check_unrevised",
    "decide_cancel",
    "decide_end",
    "evolve_build",
    "evolve_line",
    "next_version",
    "still_building",
]
