"""When the embedder cannot be reached while an answer is grounded (the knowledge service is
down), the answer is still given, as the model wrote it, and its sentences say they were not
checked — never shown as supported. A NATS server of its own, with no knowledge service
answering `qry.knowledge.embed`."""

import pytest

from runtime.devstack.nats_server import EmbeddedNats
from services.expert.answering.grounding import ModelAnswer, ground
from services.expert.answering.sources import Source
from tests.support.servers import admin_connect

pytestmark = pytest.mark.integration

SOURCES = [
    Source(1, "d1", "harbour.pdf", 2, "d1-2-0", "The Quillmark tower guards the north."),
    Source(2, "d1", "harbour.pdf", 3, "d1-3-0", "Boats return when the bell rings."),
]


async def test_without_the_embedder_the_answer_stands_and_its_claims_are_unchecked(tmp_path):
    with EmbeddedNats(tmp_path / "nats") as server:
        nc = await admin_connect(server.url, tmp_path)
        try:
            text = "The Quillmark tower guards the north [1]. Sure. Ships pay a toll."
            asked = ModelAnswer(
                question="Which tower guards the north?", text=text, sources=SOURCES,
                setting="auto", bundled=True, may_quote=True,
            )  # fmt: skip

            grounded = await ground(nc, asked)
        finally:
            await nc.close()

    assert grounded.answer == text  # no quotes could be chosen: shown as written
    assert [(c.support, c.citations) for c in grounded.claims] == [
        ("unchecked", []),
        ("not_a_claim", []),
        ("unchecked", []),
    ]
    assert [s.n for s in grounded.cited] == [1]  # what the text cites, as before attribution
