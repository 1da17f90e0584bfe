"""The fine-tuning forms as typed (every field a string) and the commands they become.

The settings form checks every config value against its range (`contracts.trainer.RANGES`,
in the contract's own words) and names each bad one next to its field, all at once, keeping
what was typed. A hosted provider's API key is never put back into the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from contracts.base import DomainError, ErrorCode
from contracts.trainer import (
    RANGES,
    ConfigureFinetune,
    FinetuneSettings,
    HostedInput,
    StartFinetune,
    TrainConfig,
    in_range_words,
    plain,
)

BACKENDS = (
    ("auto", "Automatic", "Unsloth (4-bit) on a CUDA GPU, else PEFT."),
    ("peft", "PEFT", "LoRA with PEFT and TRL, on the CPU or a GPU."),
    ("unsloth", "Unsloth", "4-bit QLoRA; needs a CUDA GPU and the GPU extra."),
    ("axolotl", "Axolotl", "If it is installed on this machine."),
    ("openai", "Hosted", "An OpenAI-compatible fine-tuning service (costs money)."),
)
BACKEND_NAMES = tuple(value for value, _, _ in BACKENDS)
OPTIONAL = ("eval_steps", "max_steps")  # empty: the trainer decides


def _whole(info: msgspec.inspect.Type) -> bool:
    if isinstance(info, msgspec.inspect.UnionType):
        return any(_whole(t) for t in info.types)
    return isinstance(info, msgspec.inspect.IntType)


WHOLE = frozenset(f.name for f in msgspec.inspect.type_info(TrainConfig).fields if _whole(f.type))
MAX_PRICE = 10_000.0
MAX_BUDGET = 1_000_000.0


range_words = in_range_words  # "lora_rank must be between 4 and 128", as the contract says


def shown(value: float | None) -> str:
    """A number as the form shows it (`2e-4` as 0.0002, 16.0 as 16); None as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def money(text: str, name: str, high: float) -> float | str:
    """A number of dollars, or the sentence saying what is wrong with it."""
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        return f"{name} must be a number of dollars from 0 to {plain(high)}"
    if not 0 <= value <= high:
        return f"{name} must be from 0 to {plain(high)} dollars"
    return value


@dataclass
class ConfigForm:
    """The settings form as typed: `values` by field name (config keys as they are,
    `hosted_*` for the provider, `budget_usd`)."""

    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: FinetuneSettings) -> ConfigForm:
        config = msgspec.structs.asdict(settings.config)
        values = {
            key: shown(value) if key in RANGES else (value or "") for key, value in config.items()
        }
        hosted = settings.hosted
        values |= {
            "hosted_base_url": hosted.base_url if hosted else "",
            "hosted_model": hosted.model if hosted else "",
            "hosted_price": shown(hosted.price_per_million_tokens_usd) if hosted else "",
            "budget_usd": shown(settings.budget_usd),
        }
        return cls(values)

    @classmethod
    def typed(cls, data: dict) -> ConfigForm:
        """What came from the browser, every value a string, the API key left out."""
        values = {}
        for key, value in data.items():
            if isinstance(value, list):
                value = value[-1] if value else ""
            if key not in ("_csrf", "hosted_api_key"):
                values[str(key)] = str(value)
        return cls(values)

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def command(self, expert_id: str, api_key: str) -> tuple[ConfigureFinetune | None, dict]:
        """The command, or None and {field: what is wrong} for every bad field."""
        errors: dict[str, str] = {}
        config: dict = {}
        for key in RANGES:
            text = self.get(key).strip()
            if not text and key in OPTIONAL:
                config[key] = None
                continue
            whole = key in WHOLE
            try:
                value = int(text) if whole else float(text)
            except ValueError:
                kind = "a whole number" if whole else "a number"
                words = range_words(key).replace(" must be ", f" must be {kind} ")
                errors[key] = f"{words} (got “{text}”)" if text else words
                continue
            low, high = RANGES[key]
            if not low <= value <= high:
                errors[key] = f"{range_words(key)} (got {plain(value)})"
            config[key] = value
        backend = self.get("backend") or "auto"
        if backend not in BACKEND_NAMES:
            errors["backend"] = f"backend must be one of {', '.join(BACKEND_NAMES)}"
        config["backend"] = backend
        config["base_model"] = self.get("base_model").strip() or None
        hosted = self.hosted(api_key, errors)
        budget = None
        if self.get("budget_usd").strip():
            budget = money(self.get("budget_usd"), "The budget", MAX_BUDGET)
            if isinstance(budget, str):
                errors["budget_usd"], budget = budget, None
        if errors:
            return None, errors
        try:
            train = msgspec.convert(config, TrainConfig)
        except (msgspec.ValidationError, ValueError) as exc:
            return None, {"": str(exc).split(" - at ")[0]}
        cmd = ConfigureFinetune(expert_id=expert_id, config=train, hosted=hosted, budget_usd=budget)
        return cmd, {}

    def hosted(self, api_key: str, errors: dict[str, str]) -> HostedInput | None:
        base_url, model = self.get("hosted_base_url").strip(), self.get("hosted_model").strip()
        price_text = self.get("hosted_price").strip()
        if not (base_url or model or api_key.strip()):
            return None
        if not base_url:
            errors["hosted_base_url"] = (
                "Write the provider's base URL, e.g. https://api.openai.com/v1"
            )
        if not model:
            errors["hosted_model"] = "Write the provider's model to fine-tune"
        price = 0.0
        if price_text:
            price = money(price_text, "The price", MAX_PRICE)
            if isinstance(price, str):
                errors["hosted_price"], price = price, 0.0
        if not (base_url and model):
            return None
        return HostedInput(
            base_url=base_url,
            model=model,
            price_per_million_tokens_usd=price,
            api_key=api_key.strip() or None,
        )


class StartForm(msgspec.Struct, kw_only=True):
    """Run now: which dataset version, which backend ("" = as configured), confirmed?"""

    dataset_id: str = ""
    backend: str = ""
    confirm: str = ""

    def command(self, expert_id: str, settings: FinetuneSettings) -> StartFinetune:
        config = None
        if self.backend:
            if self.backend not in BACKEND_NAMES:
                raise DomainError(ErrorCode.INVALID, "Choose a backend from the list.")
            config = msgspec.structs.replace(settings.config, backend=self.backend)  # type: ignore[arg-type]
        return StartFinetune(
            expert_id=expert_id,
            dataset_id=self.dataset_id or None,
            config=config,
            confirm=self.confirm == "yes",
            trigger="manual",
        )
