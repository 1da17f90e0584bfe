"""The reasoning template each expert answers with, as the community service's log has it.

A person applies one of their templates to an expert (`TemplateApplied` on the COMMUNITY
stream, aggregate `applied`, keyed by the expert id); from the next answer on it shapes the
system prompt in every mode, and the trace names the version that answered. The expert
service never asks the community service for it: `TemplatesProjection` (`expert.templates`)
follows that stream into two tables of its own, rebuilt from the log like every view:

- `templates`: every version of every local template (created, edited, forked, imported;
  the content is personal and sealed on the log, opened by this service's event store), so
  an application that follows the latest version finds it, and an older pinned one too;
- `applied_templates`: which template (and pinned version, or none for the latest) each
  expert answers with.

A deleted template drops its versions: an expert it was applied to answers without one.
`AppliedTemplates.for_expert` is the read an answer makes: the template's id, the version
that answers and the Markdown body (its YAML front matter, metadata for people, left out of
the prompt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nats.errors
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import community
from contracts.answers import TemplateRef
from contracts.base import DomainError
from contracts.community import (
    TemplateApplied,
    TemplateCreated,
    TemplateDeleted,
    TemplateEdited,
    TemplateForked,
    TemplateImported,
)
from runtime.eventstore import RecordedEvent
from runtime.logs import get_logger
from runtime.projection import Tables, Writes
from runtime.service import ServiceHost

log = get_logger(__name__)

# How long an answer waits for this view to show the community log as it stands (a template
# applied a moment ago); past it, the answer goes on with what the view shows.
CATCH_UP_S = 2.0

FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n.*?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M
)

VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS templates ("
    " tenant text NOT NULL, template_id text NOT NULL, version text NOT NULL,"
    " seq bigint NOT NULL, content text NOT NULL,"
    " PRIMARY KEY (tenant, template_id, version))"
)
APPLIED_TABLE = (
    "CREATE TABLE IF NOT EXISTS applied_templates ("
    " tenant text NOT NULL, expert_id text NOT NULL, template_id text NOT NULL, version text,"
    " PRIMARY KEY (tenant, expert_id))"
)
VERSION_ADDED = text(
    "INSERT INTO templates (tenant, template_id, version, seq, content)"
    " VALUES (:t, :id, :version, :seq, :content) ON CONFLICT DO NOTHING"
)
TEMPLATE_GONE = text("DELETE FROM templates WHERE tenant = :t AND template_id = :id")
APPLIED = text(
    "INSERT INTO applied_templates (tenant, expert_id, template_id, version)"
    " VALUES (:t, :e, :id, :version) ON CONFLICT (tenant, expert_id) DO UPDATE SET"
    " template_id = EXCLUDED.template_id, version = EXCLUDED.version"
)
REMOVED = text("DELETE FROM applied_templates WHERE tenant = :t AND expert_id = :e")
# The applied version, or the newest one on the log when the application follows the latest.
READ = text(
    "SELECT v.template_id, v.version, v.content FROM expert.applied_templates a"
    " JOIN expert.templates v ON v.tenant = a.tenant AND v.template_id = a.template_id"
    " AND (a.version IS NULL OR v.version = a.version)"
    " WHERE a.tenant = :t AND a.expert_id = :e ORDER BY v.seq DESC LIMIT 1"
)


class TemplatesProjection(Tables):
    name = "expert.templates"
    streams = (community.STREAM,)
    announce = False  # the community service announces its own events
    table_ddl = (VERSIONS_TABLE, APPLIED_TABLE)

    async def apply(self, out: Writes, rec: RecordedEvent) -> None:
        match rec.event:
            case TemplateCreated() | TemplateEdited() | TemplateForked() | TemplateImported() as ev:
                out.add(
                    VERSION_ADDED,
                    {"t": rec.tenant, "id": ev.template_id, "version": ev.version,
                     "seq": rec.seq, "content": ev.content},
                )  # fmt: skip
            case TemplateDeleted(template_id=template_id):
                out.add(TEMPLATE_GONE, {"t": rec.tenant, "id": template_id})
            case TemplateApplied(expert_id=expert_id, template_id=None):
                out.add(REMOVED, {"t": rec.tenant, "e": expert_id})
            case TemplateApplied() as ev:
                out.add(
                    APPLIED,
                    {"t": rec.tenant, "e": ev.expert_id, "id": ev.template_id,
                     "version": ev.version},
                )  # fmt: skip


@dataclass(frozen=True)
class AppliedTemplate:
    """The template version an expert answers with, and the body its prompt carries."""

    template_id: str
    version: str
    body: str

    @property
    def ref(self) -> TemplateRef:
        """What the trace records: which template version answered."""
        return TemplateRef(template_id=self.template_id, version=self.version)


class AppliedTemplates:
    """The template to answer with for an expert, as the log has it when the question comes:
    the view is first brought up to the community log's end, so the very next answer after
    `POST /api/experts/{id}/template` uses it."""

    def __init__(self, host: ServiceHost) -> None:
        self.host = host

    async def for_expert(self, tenant: str, expert_id: str) -> AppliedTemplate | None:
        try:
            await self.host.caught_up_with_log(community.STREAM, timeout=CATCH_UP_S)
        except (DomainError, nats.errors.Error) as exc:  # a view behind, NATS slow to say
            log.warning("templates.behind", expert_id=expert_id, error=str(exc))
        async with self.host.engine.connect() as conn:
            return await applied(conn, tenant, expert_id)


async def applied(conn: AsyncConnection, tenant: str, expert_id: str) -> AppliedTemplate | None:
    """The template applied to the expert (None: none, or one since deleted)."""
    row = (await conn.execute(READ, {"t": tenant, "e": expert_id})).first()
    if row is None:
        return None
    return AppliedTemplate(row.template_id, row.version, body_of(row.content))


def body_of(content: str) -> str:
    """A template's Markdown without its YAML front matter, trimmed."""
    return FRONT_MATTER.sub("", content, count=1).strip()
