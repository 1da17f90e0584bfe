"""The template an expert answers with, pure (aggregate `applied`, keyed by the expert id).

One event says it all: `TemplateApplied` with the template (and a fixed version, or None to
follow the template's latest), or with no template to remove it. The caller checks the
expert and the template exist; this decides only whether anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.community import TemplateApplied


@dataclass(frozen=True)
class Applied:
    template_id: str | None = None
    version: str | None = None


INITIAL = Applied()


def evolve(state: Applied, event: object) -> Applied:
    if isinstance(event, TemplateApplied):
        return Applied(template_id=event.template_id, version=event.version)
    return state


def decide_apply(
    state: Applied,
    expert_id: str,
    template_id: str | None,
    version: str | None,
    *,
    registry_id: str | None = None,
    registry_url: str = "",
) -> TemplateApplied | None:
    """Apply (or with `template_id` None, remove); the same choice again changes nothing."""
    if template_id is None:
        version = None
    if (state.template_id, state.version) == (template_id, version):
        return None
    return TemplateApplied(
        expert_id=expert_id,
        template_id=template_id,
        version=version,
        previous_template_id=state.template_id,
        registry_id=registry_id if template_id is not None else None,
        registry_url=registry_url if template_id is not None else "",
    )
