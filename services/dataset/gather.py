"""A build's material, fetched from the services that own it over NATS: the expert service's
persona and traces, the knowledge service's passages; and the knowledge source's examples from
those passages.

Knowledge examples come from the expert's own model when a capable one is configured
(`model_qa.py`), else from the offline generator (`offline_qa.py`), whose answers are the
passage's own sentences and so cannot be made up. Either way each question comes with the
passage that answers it among distractors, numbered as the live prompt numbers them
(`raft.py`), drawn by the build's seed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from contracts.answers import GetPersona, ListTraces, PersonaView, TraceView
from contracts.dataset import KnowledgeSource, Rejection
from contracts.knowledge import ListPassages, Passage
from runtime.rpc import ask
from services.dataset.candidates import Candidate
from services.dataset.model_qa import ModelWriter, Tick
from services.dataset.offline_qa import knowledge_candidates


class Gatherer:
    def __init__(self, nc, tenant: str, expert_id: str, rate_per_s: float) -> None:
        self.nc, self.tenant, self.expert_id = nc, tenant, expert_id
        self.writer = ModelWriter(nc, tenant, expert_id, rate_per_s)

    async def persona(self) -> PersonaView:
        query = GetPersona(tenant=self.tenant, expert_id=self.expert_id)
        return await ask(self.nc, query)

    async def passages(self) -> AsyncIterator[Passage]:
        after = None
        while True:
            query = ListPassages(tenant=self.tenant, expert_id=self.expert_id, after=after)
            page = await ask(self.nc, query)
            for passage in page.passages:
                yield passage
            if page.next is None:
                return
            after = page.next

    async def traces(self) -> list[TraceView]:
        found, after = [], None
        while True:
            query = ListTraces(
                tenant=self.tenant, expert_id=self.expert_id, kind="answer", limit=200, after=after
            )
            page = await ask(self.nc, query)
            found += page.traces
            if page.next is None:
                return found
            after = page.next

    async def knowledge(
        self, spec: KnowledgeSource, system: str, tick: Tick, seed: int = 0
    ) -> tuple[list[Candidate], list[Rejection]]:
        """Examples from the passages, and the passages the model wrote nothing usable for."""
        passages = [p async for p in self.passages()]
        if not passages:
            return [], []
        if spec.generator == "offline" or (
            spec.generator == "auto" and not await self.writer.capable()
        ):
            found = knowledge_candidates(
                passages, questions=spec.questions, system=system, seed=seed
            )
            return found, []
        return await self.writer.examples(passages, spec.questions, system, tick, seed)
