"""The LoRA adapters loaded beside the base weights, least recently used evicted first.

The base model is wrapped in a PeftModel once, on the first adapter; after that an adapter is
loaded with `load_adapter`, chosen per request with `set_adapter`, and evicted with
`delete_adapter`, so the base weights are never reloaded and switching between adapters that
are already loaded costs next to nothing. A request without an adapter generates inside
`disable_adapter()`. Only the generation worker thread touches this object.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from services.expert.llm.base import Adapter, BackendError


class AdapterCache:
    def __init__(self, base_model, limit: int = 8):
        if limit < 1:
            raise ValueError("The adapter cache must hold at least one adapter.")
        self.limit = limit
        self._base = base_model
        self._peft = None
        self._names: OrderedDict[Adapter, str] = OrderedDict()  # adapter -> its PEFT name
        self._serial = 0

    @property
    def loaded(self) -> list[str]:
        """Ids of the adapters in memory, least recently used first."""
        return [adapter.adapter_id for adapter in self._names]

    @contextmanager
    def using(self, adapter: Adapter | None) -> Iterator[object]:
        """The model to call `generate` on, with `adapter` (or no adapter) active."""
        if adapter is None:
            if self._peft is None:
                yield self._base
            else:
                with self._peft.disable_adapter():
                    yield self._peft
            return
        self.activate(adapter)
        yield self._peft

    def activate(self, adapter: Adapter) -> None:
        """Make `adapter` the active one, loading it (and evicting the oldest) if needed."""
        if adapter not in self._names:
            self._load(adapter)
        self._names.move_to_end(adapter)
        self._peft.set_adapter(self._names[adapter])
        while len(self._names) > self.limit:
            _, oldest = self._names.popitem(last=False)
            self._peft.delete_adapter(oldest)

    def _load(self, adapter: Adapter) -> None:
        if not (adapter.path / "adapter_config.json").is_file():
            raise BackendError(
                "not_found",
                f"The adapter {adapter.adapter_id} is missing from {adapter.path}; "
                "activate another version or train it again.",
            )
        self._serial += 1
        name = f"adapter_{self._serial}"  # PEFT names become module keys: no dots allowed
        try:
            if self._peft is None:
                from peft import PeftModel

                self._peft = PeftModel.from_pretrained(self._base, adapter.path, adapter_name=name)
                self._peft.eval()
            else:
                self._peft.load_adapter(adapter.path, adapter_name=name)
        except Exception as exc:
            if self._peft is not None and name in self._peft.peft_config:
                self._peft.delete_adapter(name)
            raise BackendError(
                "model",
                f"The adapter {adapter.adapter_id} in {adapter.path} does not fit the base "
                "model or its files are damaged.",
            ) from exc
        self._names[adapter] = name
