"""Questions about a passage written by the expert's own model, when it is more than the small
bundled one: the prompt, the reading of its reply, and the calls (one completion per passage,
rate-limited, retried on a busy or failing server). The passages asked about are spread over
the expert's documents (contents, index and licence pages left out: `boilerplate.py`); a
passage the model wrote nothing usable for is kept as a rejection. Each pair becomes an
example among distractor passages, citing its passage by number, as `raft.py` sets them out
(the model's own [n] markers are dropped: it was shown one unnumbered passage)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable

from contracts.answers import ChatTurn, Complete
from contracts.base import DomainError, ErrorCode
from contracts.dataset import Rejection
from contracts.knowledge import Passage
from contracts.rules import clean_text
from runtime.rpc import ask
from services.dataset.boilerplate import boilerplate
from services.dataset.candidates import Candidate
from services.dataset.raft import Written, raft_candidates

Tick = Callable[[str, int, int], Awaitable[None]]  # stage, done, total
GENERATION_TRIES = 3
MAX_PASSAGE_CHARS = 16_000


def backend_prompt(passage_text: str) -> list[dict]:
    """Messages asking a capable model for one question the passage answers, and its answer
    from the passage alone, as JSON."""
    return [
        {
            "role": "system",
            "content": (
                "You write study questions from a document. Reply with JSON only, in the "
                'form {"question": "...", "answer": "..."}.'
            ),
        },
        {
            "role": "user",
            "content": (
                "Write ONE question that a learner would ask and that this passage answers, "
                "and the answer, using only what the passage says. Do not add facts that "
                "are not in it.\n\nPassage:\n<<<\n" + passage_text[:MAX_PASSAGE_CHARS] + "\n>>>"
            ),
        },
    ]


def parse_backend_reply(text: str) -> tuple[str, str] | None:
    """The (question, answer) in a model's reply: the first JSON object in it with both as
    non-empty text, wherever it sits (code fences and chatter around it are fine); None
    when there is none."""
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if not isinstance(value, dict):
            continue
        question, answer = value.get("question"), value.get("answer")
        if isinstance(question, str) and isinstance(answer, str):
            question, answer = clean_text(question).strip(), clean_text(answer).strip()
            if question and answer:
                return question, answer
    return None


class RateLimit:
    """At most `per_s` calls a second, spaced evenly."""

    def __init__(self, per_s: float) -> None:
        self.gap, self._next = 1.0 / per_s, 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        self._next = max(self._next, now)
        delay, self._next = self._next - now, self._next + self.gap
        if delay > 0:
            await asyncio.sleep(delay)


class ModelWriter:
    """The expert's model writing questions about passages, at most `rate_per_s` a second."""

    def __init__(self, nc, tenant: str, expert_id: str, rate_per_s: float) -> None:
        self.nc, self.tenant, self.expert_id = nc, tenant, expert_id
        self.limit = RateLimit(rate_per_s)

    async def examples(
        self, passages: list[Passage], questions: int, system: str, tick: Tick, seed: int = 0
    ) -> tuple[list[Candidate], list[Rejection]]:
        """Up to `questions` examples, one from each passage chosen, and the passages the
        model wrote nothing usable for."""
        teaching = [p for p in passages if not boilerplate(p.text)]
        chosen = spread(teaching, questions)
        written: list[Written] = []
        unusable: list[Rejection] = []
        for n, passage in enumerate(chosen, start=1):
            pair = await self.write(passage)
            if pair is None:
                unusable.append(unusable_reply(passage))
            else:
                written.append(Written(passage, *pair))
            await tick("writing questions from the documents", n, len(chosen))
        found = raft_candidates(written, passages, system=system, seed=seed, tag="backend")
        return found, unusable

    async def capable(self) -> bool:
        """Whether the expert's backend is more than the small bundled model."""
        probe = Complete(
            tenant=self.tenant,
            expert_id=self.expert_id,
            messages=[ChatTurn(role="user", content="Say OK.")],
            max_tokens=1,
        )
        try:
            reply = await ask(self.nc, probe, timeout=120)
        except DomainError:
            return False
        return not reply.bundled

    async def write(self, passage: Passage) -> tuple[str, str] | None:
        """The model's question and answer about `passage`, None when its reply holds none;
        a busy or failing model is tried again, then the build fails with its reason."""
        messages = [ChatTurn(**m) for m in backend_prompt(passage.text)]
        query = Complete(
            tenant=self.tenant, expert_id=self.expert_id, messages=messages, max_tokens=400
        )
        for attempt in range(GENERATION_TRIES):
            await self.limit.wait()
            try:
                reply = await ask(self.nc, query, timeout=300)
            except DomainError as exc:
                if exc.code not in (ErrorCode.BUSY, ErrorCode.BACKEND, ErrorCode.UNAVAILABLE):
                    raise
                if attempt == GENERATION_TRIES - 1:
                    raise DomainError(
                        ErrorCode.BACKEND, f"the expert's model could not write: {exc.detail}"
                    ) from exc
                await asyncio.sleep(2.0**attempt)
                continue
            return parse_backend_reply(reply.text)
        return None


def unusable_reply(passage: Passage) -> Rejection:
    return Rejection(
        source="knowledge",
        code="unusable_reply",
        detail=(
            f"The model's reply for {passage.filename}, page {passage.page}, held no question"
            " and answer Simtune could read."
        ),
        question=" ".join(passage.text.split())[:300],
    )


def spread(passages: list[Passage], n: int) -> list[Passage]:
    """`n` passages spread evenly over the expert's documents (all of them when fewer)."""
    if n >= len(passages):
        return passages
    step = len(passages) / n
    return [passages[int(i * step)] for i in range(n)]
