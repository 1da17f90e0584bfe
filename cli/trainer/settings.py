"""Fine-tuning settings from what a person typed: `--set KEY=VALUE` read against the
expert's config, the hosted service's fields merged over the stored ones, a budget. Pure."""

from __future__ import annotations

from cli.args import one_of
from cli.client import CliError

BACKENDS = ("auto", "peft", "unsloth", "axolotl", "openai")


def value_of(text: str):
    """`4` -> 4, `2e-4` -> 0.0002, `none`/`` -> None, anything else the text itself."""
    if text.strip().lower() in ("", "none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def with_sets(config: dict, sets: list[str], backend: str | None) -> dict:
    """`config` with each `KEY=VALUE` of `sets` (only keys it has) and the backend applied."""
    changed = dict(config)
    for item in sets:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep:
            raise CliError(f"--set {item!r}: write it as KEY=VALUE, e.g. epochs=2")
        if key not in config:
            raise CliError(f"--set {key}: there is no such setting; they are: {', '.join(config)}")
        changed[key] = value_of(text)
    if one_of("--backend", backend, BACKENDS) is not None:
        changed["backend"] = backend
    return changed


def hosted_body(settings: dict, url: str | None, model: str | None, price: float | None):
    """The hosted service with the fields given replacing the stored ones; None when there
    is neither a URL nor a model."""
    now = settings.get("hosted") or {}
    hosted = {
        "base_url": url if url is not None else now.get("base_url"),
        "model": model if model is not None else now.get("model"),
        "price_per_million_tokens_usd": price
        if price is not None
        else now.get("price_per_million_tokens_usd", 0.0),
    }
    if not (hosted["base_url"] or hosted["model"]):
        return None
    if not (hosted["base_url"] and hosted["model"]):
        raise CliError("a hosted service needs both --hosted-url and --hosted-model")
    return hosted


def budget_of(text: str) -> float | None:
    if text.strip().lower() in ("none", ""):
        return None
    try:
        return float(text.strip().lstrip("$"))
    except ValueError:
        raise CliError(f"--budget must be a number of dollars or 'none', not {text!r}") from None
