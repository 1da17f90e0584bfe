"""Scoring a finished run again with the current scorer: the answers stay as they were given,
each is judged anew, and `BenchmarkRescored` records the new scores and metrics beside the
old ones (nothing is overwritten on the log)."""

from __future__ import annotations

import msgspec

from contracts.base import Accepted, DomainError, ErrorCode
from contracts.benchmark import BenchmarkRescored, RescoreBenchmark
from services.benchmark import scoring
from services.benchmark.aggregates import RUNS


def cited_of(result) -> list[tuple[str, int]]:
    pairs = []
    for citation in result.citations:
        document_id, _, page = citation.rpartition(":")
        if document_id and page.isdigit():
            pairs.append((document_id, int(page)))
    return pairs


class Rescoring:
    def __init__(self, host, runner) -> None:
        self.host, self.runner = host, runner

    async def rescore(self, cmd: RescoreBenchmark) -> Accepted:
        state, _ = await RUNS.load(self.host.store, cmd.tenant, cmd.run_id)
        if state.queued is None:
            raise DomainError(ErrorCode.NOT_FOUND, f"benchmark run {cmd.run_id} not found")
        if state.status != "succeeded":
            raise DomainError(ErrorCode.CONFLICT, f"run {cmd.run_id} has not finished")
        if state.scorer_version >= scoring.SCORER_VERSION:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"run {cmd.run_id} is already scored by scorer version {state.scorer_version},"
                " the newest",
            )
        questions = {q.id: q for q in state.queued.questions}
        results = []
        for old in (state.results[i] for i in sorted(state.results)):
            if old.error is not None:
                results.append(msgspec.structs.replace(old, scorer_version=scoring.SCORER_VERSION))
                continue
            q = questions[old.question_id]
            similarity = await self.runner.similarity(cmd.tenant, old.answer, q.reference)
            new = scoring.score(q, old.answer, similarity=similarity, cited=cited_of(old))
            results.append(
                msgspec.structs.replace(
                    new, response_ms=old.response_ms, completion_tokens=old.completion_tokens,
                    tokens_per_s=old.tokens_per_s, cut_off=old.cut_off, citations=old.citations,
                )
            )  # fmt: skip
        resources = state.completed.metrics.resources if state.completed else None
        metrics = scoring.metrics(list(state.queued.questions), results, resources)
        rescored = BenchmarkRescored(run_id=cmd.run_id, scorer_version=scoring.SCORER_VERSION,
                                     results=results, metrics=metrics)  # fmt: skip
        outcome = await RUNS.execute(
            self.host.store, cmd.tenant, cmd.run_id,
            lambda s: rescored if s.scorer_version < scoring.SCORER_VERSION else None,
        )  # fmt: skip
        return Accepted(id=cmd.run_id, seq=outcome.seq)
