"""DocumentUploaded -> DocumentParsingStarted -> DocumentChunked | DocumentRejected (the
reactor "ingest.parse").

The file is read in a child process with a memory and a time limit (`sandbox.py`); a crash
mid-way redelivers the upload, and every event appended here has an id derived from the
upload's id, so nothing is appended twice. An upload that reached the log after its expert
was deleted is deleted instead of parsed. When every attempt failed, `give_up` rejects the
document with a reason (`reasons.py`).
"""

from __future__ import annotations

from contracts.ingest import DERIVED_BUCKET, DocumentChunked, DocumentUploaded
from runtime.eventstore import RecordedEvent
from runtime.logs import get_logger
from runtime.objects import ObjectCorrupt, ObjectMissing
from runtime.reactor import Progress
from runtime.service import ServiceHost
from services.ingest import domain, reasons
from services.ingest.aggregates import decide_in_reaction, expert_is_live
from services.ingest.parsing import ParseError
from services.ingest.sandbox import Limits, TooComplex, read_in_child

log = get_logger(__name__)


def chunks_object_name(tenant: str, document_id: str, revision: int) -> str:
    return f"{tenant}/{document_id}/{revision}.chunks.json"


class OnUpload:
    """Reads an uploaded file into its chunk list, or rejects it saying why."""

    def __init__(self, host: ServiceHost) -> None:
        self.host = host
        self.settings = s = host.settings
        self.limits = Limits.of(s)
        self.heartbeat_s = max(s.work_ack_wait_s / 3, 0.5)

    async def react(self, rec: RecordedEvent, progress: Progress) -> None:
        if not isinstance(rec.event, DocumentUploaded):
            return
        up = rec.event
        if not await expert_is_live(self.host.store, rec.tenant, up.expert_id):
            await self._decide(
                rec, up, lambda s: domain.decide_orphan_delete(s, up.revision), step="orphan"
            )
            log.info("document.orphan_deleted", document_id=up.document_id)
            return
        started = await self._decide(
            rec, up, lambda s: domain.decide_start_parsing(s, up.revision), step="parsing"
        )
        if not domain.still_parsing(started.state, up.revision):
            return  # finished before a crash, deleted, or superseded by a newer upload
        try:
            data = await self.host.objects.get(up.object, tenant=rec.tenant)
            await progress()
            read = await read_in_child(
                data, up.media_type, self.limits, heartbeat=progress, heartbeat_s=self.heartbeat_s
            )
        except ParseError as exc:
            await self._reject(rec, up, exc.code, exc.reason)
            return
        except TooComplex as exc:
            await self._reject(rec, up, *reasons.too_complex(exc))
            return
        except ObjectMissing:
            await self._reject(rec, up, *reasons.missing())
            return
        except ObjectCorrupt:
            await self._reject(rec, up, *reasons.damaged())
            return
        del data
        ref = await self.host.objects.put(
            DERIVED_BUCKET,
            chunks_object_name(rec.tenant, up.document_id, up.revision),
            read.chunks_json,
            tenant=rec.tenant,
        )
        done = DocumentChunked(
            document_id=up.document_id,
            expert_id=up.expert_id,
            revision=up.revision,
            filename=up.filename,
            pages=read.pages,
            chunk_count=read.chunk_count,
            chunks=ref,
            chunk_size=self.settings.chunk_size,
            chunk_overlap=self.settings.chunk_overlap,
        )
        await self._decide(rec, up, lambda s: domain.decide_chunked(s, up.revision, done))
        log.info(
            "document.chunked",
            document_id=up.document_id,
            pages=read.pages,
            chunks=read.chunk_count,
        )

    async def give_up(self, rec: RecordedEvent, error: BaseException) -> None:
        """Every attempt at reading the upload failed: the document is rejected, saying why."""
        if isinstance(rec.event, DocumentUploaded):
            code, reason = reasons.gave_up(
                error, self.settings.max_deliveries, self.settings.parse_memory_bytes
            )
            await self._reject(rec, rec.event, code, reason)

    async def _reject(
        self, rec: RecordedEvent, up: DocumentUploaded, code: str, reason: str
    ) -> None:
        await self._decide(rec, up, lambda s: domain.decide_rejected(s, up.revision, code, reason))
        log.info("document.rejected", document_id=up.document_id, code=code)

    async def _decide(self, rec: RecordedEvent, up: DocumentUploaded, decide, *, step="done"):
        """Append what `decide` makes of this upload's document, once however often it runs."""
        return await decide_in_reaction(self.host.store, rec, up.document_id, decide, step)
