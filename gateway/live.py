"""`GET /ui/experts/{expert_id}/documents/stream`: the documents table, live, as SSE.

The htmx SSE extension swaps each `documents` event into the page. A new table is sent
when an ingest or knowledge event about this expert's documents has been projected
(committed), read with `after_seq` so the table already shows it. Bursts are coalesced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from jinja2 import Environment
from litestar import Request, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from contracts.base import DomainError
from contracts.expert import ExpertView
from gateway.backend import Backend
from gateway.hub import Announcement, Closed
from gateway.templating import render
from runtime.logs import get_logger

log = get_logger(__name__)

STREAMS = ("INGEST", "KNOWLEDGE")
KEEPALIVE_S = 15.0
COALESCE_S = 0.05


def concerns(ann: Announcement, expert_id: str, known: set[str]) -> bool:
    """Is this event about one of the expert's documents (or a new one of it)?"""
    data = ann.data
    if data.get("expert_id") == expert_id:
        return True
    return data.get("document_id") in known or ann.aggregate_id in known


@get("/ui/experts/{expert_id:str}/documents/stream", include_in_schema=False)
async def documents_stream(request: Request, expert_id: str, backend: Backend) -> ServerSentEvent:
    expert = await backend.get_expert(expert_id)  # 404 before the stream starts
    env: Environment = request.app.state.jinja
    return ServerSentEvent(table_updates(backend, env, expert))


async def table_updates(
    backend: Backend, env: Environment, expert: ExpertView
) -> AsyncIterator[ServerSentEventMessage]:
    after = dict.fromkeys(STREAMS, 0)
    async with backend.hub.listen(STREAMS, backend.tenant) as listener:
        while True:
            try:
                docs, next_page = await backend.documents_page(
                    expert.id, after_ingest=after["INGEST"], after_knowledge=after["KNOWLEDGE"]
                )
            except DomainError as exc:
                log.info("ui.stream_ended", expert_id=expert.id, reason=exc.detail)
                return  # the browser reconnects on its own; the page then shows the state
            known = {doc.id for doc in docs}
            html = render(
                env, "partials/documents.html", expert=expert, documents=docs, next_page=next_page
            )
            yield ServerSentEventMessage(event="documents", data=html)
            while True:  # until something about this expert's documents is committed
                try:
                    ann = await listener.next(KEEPALIVE_S)
                except Closed:
                    return
                if ann is None:
                    yield ServerSentEventMessage(data=None, comment="keep-alive")
                    continue
                await asyncio.sleep(COALESCE_S)  # let a burst arrive: one table for all of it
                relevant = [a for a in [ann, *listener.drain()] if concerns(a, expert.id, known)]
                for a in relevant:
                    after[a.stream] = max(after[a.stream], a.seq)
                if relevant:
                    break
