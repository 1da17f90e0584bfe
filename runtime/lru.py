"""A small in-process cache of the values used last, loaded on a miss.

Services keep a few expensive reads close (a dataset version's examples, a question's
embedding): a value is loaded once, served from memory while it is among the `size` used
last, and forgotten after. It holds only what can be read again, so a process that starts
empty, or forgets, answers the same, only slower.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The value of `key`: kept, or `await load()` kept from now on (the least recently
        used one goes when more than `size` are kept)."""
        value = self._values.get(key)
        if value is None:
            value = await load()
            self._values[key] = value
            if len(self._values) > self.size:
                self._values.popitem(last=False)
        else:
            self._values.move_to_end(key)
        return value
