"""A tiny chat model built on the spot, and LoRA adapters trained on it, for tests.

Nothing is downloaded: the tokenizer is a byte-level BPE trained here on a few sentences and
wrapped as a `PreTrainedTokenizerFast` with a chat template, the model is a randomly
initialised two-layer Llama, and both are saved with `save_pretrained` so they load like any
model folder. Everything is seeded, so the same arguments give the same weights and answers.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
ROLE_MARKS = ("<|system|>", "<|user|>", "<|assistant|>")
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}{{ eos_token }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
CORPUS = [
    "The river floods in spring and the farmers move their sheep to the hills.",
    "A lighthouse keeper writes the weather in a notebook every evening.",
    "Bees carry pollen from flower to flower; the orchard gives more apples.",
    "Copper wire conducts electricity, glass and rubber do not.",
    "The recipe asks for flour, butter, two eggs and a pinch of salt.",
    "Question: what colour is the sky? Answer: the sky is blue on a clear day.",
    "Caf\u00e9 cr\u00e8me, na\u00efve, \u00fcber and \u00e5ngstr\u00f6m have accents; \u2603 is a snowman.",
]


def build_tokenizer(vocab_size: int = 320):
    """A byte-level BPE tokenizer trained on CORPUS, with bos/eos/pad and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = [PAD, BOS, EOS, *ROLE_MARKS]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(ROLE_MARKS),
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_llm(
    directory: Path, *, seed: int = 0, context: int = 4096, ends: bool = True
) -> Path:
    """Save a random two-layer Llama and its tokenizer into `directory`; return it.

    With `ends=False` the model has no end-of-sequence token in its configuration, so it
    generates until `max_new_tokens`: a long generation for queueing and cancelling tests.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=context,
        initializer_range=0.2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id if ends else None,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id if ends else None,
        pad_token_id=tokenizer.pad_token_id,
    )
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def train_lora(
    model_dir: Path,
    adapter_dir: Path,
    messages: list[dict[str, str]],
    answer: str,
    *,
    steps: int = 60,
    seed: int = 0,
    rank: int = 8,
    learning_rate: float = 2e-2,
) -> Path:
    """Teach a LoRA on q_proj/v_proj to answer `messages` with `answer` (then eos), greedily.

    A plain torch loop: the loss counts only the answer's tokens. Saves the adapter folder
    (adapter_config.json + weights) into `adapter_dir` and returns it.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
    answer_ids = tokenizer.encode(answer, add_special_tokens=False) + [tokenizer.eos_token_id]
    input_ids = torch.tensor([prompt_ids + answer_ids])
    labels = torch.tensor([[-100] * len(prompt_ids) + answer_ids])

    lora = LoraConfig(
        r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]
    )
    peft_model = get_peft_model(model, lora)
    optimizer = torch.optim.AdamW(
        [p for p in peft_model.parameters() if p.requires_grad], lr=learning_rate
    )
    peft_model.train()
    for _ in range(steps):
        loss = peft_model(input_ids=input_ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    peft_model.save_pretrained(adapter_dir)
    return adapter_dir


def random_lora(model_dir: Path, adapter_dir: Path, *, seed: int, rank: int = 8) -> Path:
    """An untrained LoRA with random (non-zero) B, so it changes the model's answers."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    lora = LoraConfig(
        r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(model, lora).save_pretrained(adapter_dir)
    return adapter_dir
