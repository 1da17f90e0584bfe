"""A tiny model trained briefly on RAFT examples from the offline generator learns to cite: on
held-out questions, each among numbered passages as the live prompt shows them, more of its
answers carry a valid [n] than before training (a direction, not a threshold; issue 19,
item 3). The model and tokenizer are built on the spot (`tests/support/tiny_llm.py`), the
training is a plain LoRA loop over the examples in small batches."""

from __future__ import annotations

import re

import pytest

from services.dataset.candidates import Candidate
from services.dataset.offline_qa import knowledge_candidates
from tests.support.tiny_llm import build_tiny_llm

THINGS = [
    "lamp", "rope", "buoy", "net", "oar", "sail", "hook", "crate", "flag", "bell", "chain",
    "anchor", "hull", "mast", "keel", "pump", "winch", "cleat", "tiller", "fender", "boom",
    "jib", "rudder", "bilge",
]  # fmt: skip
COLOURS = ["red", "blue", "green", "black", "white", "grey", "brown", "yellow"]
STEPS, BATCH, LEARNING_RATE = 60, 5, 1.5e-2


def examples() -> list[Candidate]:
    passages = [
        {
            "document_id": "d",
            "filename": "kit.pdf",
            "page": n,
            "chunk_id": f"c{n}",
            "text": f"A {thing} is a {COLOURS[n % len(COLOURS)]} tool on deck.",
        }
        for n, thing in enumerate(THINGS, start=1)
    ]
    return knowledge_candidates(passages, questions=len(THINGS), system="", seed=4)


def messages(example: Candidate) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": example.system},
        {"role": "user", "content": example.question},
    ]


def citing(model, tokenizer, held_out: list[Candidate]) -> tuple[float, float]:
    """The shares of greedy answers that cite a passage shown ([1]..[k]) and the right one."""
    import torch

    valid = right = 0
    for example in held_out:
        prompt = tokenizer.apply_chat_template(
            messages(example), tokenize=False, add_generation_prompt=True
        )
        ids = torch.tensor([tokenizer.encode(prompt, add_special_tokens=False)])
        with torch.no_grad():
            out = model.generate(input_ids=ids, max_new_tokens=32, do_sample=False)
        text = tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        shown = len(re.findall(r"^\[\d+\] \(", example.question, re.MULTILINE))
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
        valid += any(1 <= n <= shown for n in cited)
        right += example.citations[0].n in cited
    return valid / len(held_out), right / len(held_out)


def train(model, tokenizer, train_on: list[Candidate]):
    """A LoRA on the attention and MLP projections, the loss on the answers' tokens only."""
    import torch
    from peft import LoraConfig, get_peft_model

    rows = []
    for example in train_on:
        prompt = tokenizer.apply_chat_template(
            messages(example), tokenize=False, add_generation_prompt=True
        )
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        answer_ids = tokenizer.encode(example.answer, add_special_tokens=False)
        answer_ids.append(tokenizer.eos_token_id)
        rows.append((prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id
    ids = torch.tensor([i + [pad] * (width - len(i)) for i, _ in rows])
    labels = torch.tensor([t + [-100] * (width - len(t)) for _, t in rows])
    mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in rows])

    torch.manual_seed(0)
    modules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=modules)
    tuned = get_peft_model(model, lora)
    optimizer = torch.optim.AdamW(
        [p for p in tuned.parameters() if p.requires_grad], lr=LEARNING_RATE
    )
    tuned.train()
    for step in range(STEPS):
        batch = slice(step * BATCH % len(rows), step * BATCH % len(rows) + BATCH)
        loss = tuned(input_ids=ids[batch], attention_mask=mask[batch], labels=labels[batch]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return tuned.eval()


def test_training_on_raft_examples_raises_the_citation_rate_on_held_out_questions(tmp_path):
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    found = examples()
    held_out = [e for n, e in enumerate(found) if n % 4 == 0 and e.citations]
    train_on = [e for n, e in enumerate(found) if n % 4]
    assert len(held_out) >= 4 and any(not e.citations for e in train_on)  # "not covered" too

    model_dir = build_tiny_llm(tmp_path / "tiny")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    before, _ = citing(model, tokenizer, held_out)
    after, right = citing(train(model, tokenizer, train_on), tokenizer, held_out)
    print(f"valid [n] before {before:.2f}, after {after:.2f}; the right [n] after {right:.2f}")
    assert after > before
