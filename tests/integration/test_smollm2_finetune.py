"""The bundled SmolLM2 fine-tuned for a few steps through the whole product: a generated PDF
is ingested, a dataset is written from its passages, the trainer trains a LoRA adapter on the
real model in its child process, and the model answers with that adapter."""

from __future__ import annotations

import msgspec
import pytest

from contracts.base import Accepted
from contracts.dataset import BuildDataset, BuildSpec, KnowledgeSource, ManualExample, Sources
from runtime.rpc import request
from tests.support import pdfs
from tests.support.flows import built_examples, create_expert, upload, wait_settled
from tests.support.training import TINY, base_and_tuned, finished, start

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

STEPS = 6

PAGES = [
    "The Brambleton orchard grows Russet, Pippin and Bramley apples on the southern slope.",
    "The oldest tree in the orchard is a Russet planted in 1911 by Agnes Moller.",
    "Cider is pressed every October in the stone barn beside the river.",
    "Bees from twelve hives pollinate the blossom in late April.",
    "Frost in May can ruin the blossom, so the keepers light braziers at night.",
    "The orchard shop sells apple juice, cider vinegar and dried apple rings.",
]


async def test_smollm2_is_fine_tuned_on_a_pdf_and_answers_with_its_adapter(
    servers, services, nc, tmp_path
):
    expert = await create_expert(nc, "Orchard keeper")
    reg = await upload(nc, expert, "orchard.pdf", pdfs.make_pdf(PAGES), "application/pdf")
    assert (await wait_settled(nc, reg.document.id))[0] == "ready"
    manual = [  # and a few written by hand, as a person would add them
        ManualExample(question="Who planted the oldest tree?", answer="Agnes Moller, in 1911."),
        ManualExample(question="When is cider pressed?", answer="Every October."),
        ManualExample(question="How many hives are there?", answer="Twelve hives."),
    ]
    sources = Sources(knowledge=KnowledgeSource(questions=12, generator="offline"), manual=manual)
    cmd = BuildDataset(expert_id=expert, spec=BuildSpec(sources=sources))
    built = await request(nc, "cmd.dataset.build", cmd, Accepted)
    assert len(await built_examples(nc, built)) >= 6

    # six steps at TINY's learning rate move a rank-16 adapter (scaled by 4) far enough to
    # change a greedy answer; each step on the real model costs seconds on a CPU
    config = msgspec.structs.replace(
        TINY, base_model="smollm2", max_steps=STEPS, eval_steps=3, lora_rank=16, lora_alpha=64
    )
    accepted = await start(nc, expert, built.id, config=config)
    view = await finished(nc, accepted.run_id, timeout=900)
    assert view.status == "succeeded", view.error
    assert view.base_model == "smollm2" and view.metrics.steps == STEPS

    base, tuned = await base_and_tuned(
        nc,
        view,
        tmp_path / "adapter",
        "smollm2",
        servers.home,
        "Who planted the oldest tree in the orchard?",
        max_tokens=24,
    )
    assert tuned.strip() and tuned != base
