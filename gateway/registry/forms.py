"""The versions page's forms as typed (every field a string) and what they become: which
version to activate or roll back to, with the deployment version the page was showing (so
a page that has gone stale is refused instead of undoing someone's change), the tags to add
or remove, and the audit trail's filters.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import get_args
from urllib.parse import urlencode

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.registry import BASE, STABLE, ActivateAdapter, GetAudit, RollbackAdapter, TagAdapter
from contracts.registry import Action as AuditAction
from contracts.registry import Outcome as AuditOutcome

ACTION_NAMES = get_args(AuditAction)
OUTCOME_NAMES = get_args(AuditOutcome)
SUGGESTED_TAGS = (STABLE, "candidate", "production")


def seen_version(text: str) -> int | None:
    """The deployment version the page was rendered with (None: the form did not say)."""
    return int(text) if text.strip().isdigit() else None


def target(adapter_id: str) -> str | None:
    """A form's adapter id; `base` (or nothing) is the base model."""
    adapter_id = adapter_id.strip()
    return None if adapter_id in ("", BASE) else adapter_id


class ActivateForm(msgspec.Struct, kw_only=True):
    adapter_id: str = ""
    expected_version: str = ""

    def command(self, expert_id: str, by: str) -> ActivateAdapter:
        return ActivateAdapter(
            expert_id=expert_id,
            adapter_id=target(self.adapter_id),
            expected_version=seen_version(self.expected_version),
            by=by,
        )


class RollbackForm(msgspec.Struct, kw_only=True):
    """Empty `to_adapter_id`: the version before the current one."""

    to_adapter_id: str = ""
    expected_version: str = ""

    def command(self, expert_id: str, by: str) -> RollbackAdapter:
        return RollbackAdapter(
            expert_id=expert_id,
            to_adapter_id=self.to_adapter_id.strip() or None,
            expected_version=seen_version(self.expected_version),
            by=by,
        )


class TagForm(msgspec.Struct, kw_only=True):
    """One tag to add or to remove (the chip's ×)."""

    add: str = ""
    remove: str = ""

    def command(self, adapter_id: str, by: str) -> TagAdapter:
        add, remove = self.add.strip(), self.remove.strip()
        if not (add or remove):
            raise DomainError(ErrorCode.INVALID, "Write the tag to add, for example stable.")
        return TagAdapter(
            adapter_id=adapter_id,
            add=[add] if add else [],
            remove=[remove] if remove else [],
            by=by,
        )


class AuditFilter(msgspec.Struct, kw_only=True):
    """The audit page's filters, as the query string has them ("" = any)."""

    action: str = ""
    outcome: str = ""
    since: str = ""
    until: str = ""

    def query(self, expert_id: str) -> GetAudit:
        """The query; DomainError (400) naming a filter that cannot be used."""
        if self.action and self.action not in ACTION_NAMES:
            raise DomainError(
                ErrorCode.INVALID, f"Choose an action from the list, not {self.action!r}."
            )
        if self.outcome and self.outcome not in OUTCOME_NAMES:
            raise DomainError(ErrorCode.INVALID, "Choose done or refused as the outcome.")
        since, until = day(self.since, "From"), day(self.until, "To")
        if since and until and until < since:
            raise DomainError(ErrorCode.INVALID, "The To date is before the From date.")
        return GetAudit(
            expert_id=expert_id,
            action=self.action or None,  # type: ignore[arg-type]
            outcome=self.outcome or None,  # type: ignore[arg-type]
            since=since.isoformat() if since else None,
            until=(until + timedelta(days=1)).isoformat() if until else None,  # the whole day
        )

    def export_query(self) -> str:
        """The same filters for the API's export links (`To` as the API reads it)."""
        pairs = {"action": self.action, "outcome": self.outcome, "since": self.since}
        until = day(self.until, "To")
        if until:
            pairs["until"] = (until + timedelta(days=1)).isoformat()
        return urlencode({k: v for k, v in pairs.items() if v})


def day(text: str, label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(
            ErrorCode.INVALID, f"The {label} date must look like 2025-03-01, not {text!r}."
        ) from None
