"""How many deliveries of an event a reactor spent holding it, so they are not attempts.

A reactor counts an event's attempts from JetStream's delivery count. An event this build
cannot read (a type from a newer release) is held: nak'ed with a delay, delivered again and
again until a build that knows it takes it. Those deliveries must not count, or the newer
build would give up on the event at its first failure. So each hold writes the delivery
count it reached into a NATS key-value bucket (key `<durable>.<stream sequence>`), and a
redelivered event subtracts it. The bucket is written only when an event is held and read
only when an event is redelivered: the happy path never touches it.
"""

from __future__ import annotations

from nats.js import JetStreamContext, api
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError

BUCKET = "reactor_holds"


class Holds:
    def __init__(self, js: JetStreamContext, durable: str) -> None:
        self._js, self._durable = js, durable
        self._kv = None

    async def _bucket(self):
        if self._kv is None:
            try:
                self._kv = await self._js.key_value(BUCKET)
            except (BucketNotFoundError, NotFoundError):
                config = api.KeyValueConfig(bucket=BUCKET, history=1, storage=api.StorageType.FILE)
                self._kv = await self._js.create_key_value(config)
        return self._kv

    def _key(self, seq: int) -> str:
        return f"{self._durable}.{seq}"

    async def record(self, seq: int, deliveries: int) -> None:
        """The event at `seq` was held on its `deliveries`-th delivery."""
        await (await self._bucket()).put(self._key(seq), str(deliveries).encode())

    async def spent(self, seq: int) -> int:
        """Deliveries of the event at `seq` that were spent holding it (0 if never held)."""
        try:
            entry = await (await self._bucket()).get(self._key(seq))
        except (KeyNotFoundError, NotFoundError):
            return 0
        return int(entry.value or b"0")

    async def forget(self, seq: int) -> None:
        """The event is done with; its count is no longer needed."""
        await (await self._bucket()).purge(self._key(seq))
