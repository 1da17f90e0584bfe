"""The console's documents of an expert: upload form, the table (also live, over SSE), delete.

`GET /ui/experts/{expert_id}/documents/stream`: the htmx SSE extension swaps each
`documents` event into the page. A new table is sent when an ingest or knowledge event
about this expert's documents has been projected (committed), read with `after_seq` so the
table already shows it. Bursts are coalesced. Each 15 s of quiet it is read again and sent
if it changed: a status whose announcement was lost (a replica killed after its commit) is
shown within a quiet spell, not left at "Embedding" until the page is reloaded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from jinja2 import Environment
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage, Template

from contracts.base import DomainError
from contracts.expert import ExpertView, GetExpert
from contracts.ingest import STREAM as INGEST
from contracts.knowledge import STREAM as KNOWLEDGE
from gateway.backend import Backend
from gateway.expert import pages as expert_pages  # the page the upload form is on
from gateway.http.pages import is_htmx
from gateway.http.templating import render
from gateway.ingest.documents import delete_document, documents_page
from gateway.ingest.uploads import receive_uploads
from gateway.sse.follow import COALESCE_S, KEEPALIVE_S
from gateway.sse.hub import Announcement, Closed
from runtime.logs import get_logger

log = get_logger(__name__)

STREAMS = (INGEST, KNOWLEDGE)


class DocumentPages(Controller):
    include_in_schema = False

    @post("/ui/experts/{expert_id:str}/documents", request_max_body_size=None)
    async def upload(self, request: Request, expert_id: str, backend: Backend) -> Response:
        try:
            uploaded = await receive_uploads(request, backend, expert_id)
        except DomainError as exc:
            if exc.status == 404 or exc.status >= 500:
                raise
            if is_htmx(request):
                context = {"detail": exc.detail, "kind": "error"}
                return Template("partials/alert.html", context=context, status_code=exc.status)
            context = await expert_pages.expert_page(backend, expert_id, upload_error=exc.detail)
            return Template("expert.html", context=context, status_code=exc.status)
        if is_htmx(request):
            return Template("partials/upload_result.html", context={"uploaded": uploaded})
        return Redirect(f"/experts/{expert_id}", status_code=303)

    @get("/ui/experts/{expert_id:str}/documents")
    async def documents(self, expert_id: str, backend: Backend) -> Template:
        return await documents_template(backend, expert_id)

    @post("/ui/documents/{document_id:str}/delete")
    async def delete_document(
        self, request: Request, document_id: str, backend: Backend
    ) -> Response:
        doc = await delete_document(backend, document_id)
        if not is_htmx(request):
            return Redirect(f"/experts/{doc.expert_id}", status_code=303)
        return await documents_template(backend, doc.expert_id)

    @get("/ui/experts/{expert_id:str}/documents/stream")
    async def documents_stream(
        self, request: Request, expert_id: str, backend: Backend
    ) -> ServerSentEvent:
        expert = await backend.ask(GetExpert(expert_id=expert_id))  # 404 before the stream starts
        env: Environment = request.app.state.jinja
        return ServerSentEvent(table_updates(backend, env, expert))


async def documents_template(backend: Backend, expert_id: str) -> Template:
    context = {
        "expert": await backend.ask(GetExpert(expert_id=expert_id)),
        "documents": (await documents_page(backend, expert_id))[0],
    }
    return Template("partials/documents.html", context=context)


def concerns(ann: Announcement, expert_id: str, known: set[str]) -> bool:
    """Is this event about one of the expert's documents (or a new one of it)?"""
    data = ann.data
    if data.get("expert_id") == expert_id:
        return True
    return data.get("document_id") in known or ann.aggregate_id in known


async def table_updates(
    backend: Backend, env: Environment, expert: ExpertView
) -> AsyncIterator[ServerSentEventMessage]:
    after = dict.fromkeys(STREAMS, 0)
    shown = None  # the table last sent
    async with backend.hub.listen(STREAMS, backend.tenant) as listener:
        while True:
            try:
                docs, next_page = await documents_page(
                    backend,
                    expert.id,
                    after_ingest=after[INGEST],
                    after_knowledge=after[KNOWLEDGE],
                )
            except DomainError as exc:
                log.info("ui.stream_ended", expert_id=expert.id, reason=exc.detail)
                return  # the browser reconnects on its own; the page then shows the state
            known = {doc.id for doc in docs}
            html = render(
                env, "partials/documents.html", expert=expert, documents=docs, next_page=next_page
            )
            if html != shown:
                yield ServerSentEventMessage(event="documents", data=html)
                shown = html
            while True:  # until something about this expert's documents is committed
                try:
                    batch = await listener.burst(KEEPALIVE_S, COALESCE_S)  # one table a burst
                except Closed:
                    return
                if batch is None:
                    yield ServerSentEventMessage(data=None, comment="keep-alive")
                    break  # look again: a status may have lost its announcement (sent if changed)
                relevant = [a for a in batch if concerns(a, expert.id, known)]
                for a in relevant:
                    after[a.stream] = max(after[a.stream], a.seq)
                if relevant:
                    break


ROUTES = [DocumentPages]
