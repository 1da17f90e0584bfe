"""Deliveries of an event that were not attempts at it, so the reactor does not count them.

A reactor counts an event's attempts from JetStream's delivery count. Two kinds of delivery
are not attempts: holding an event this build cannot read (a type from a newer release is
nak'ed with a delay, again and again, until a build that knows it takes it), and handing an
event back because the service is stopping (a deploy, a scale-down). Counting them would
make a newer build give up on a held event at its first failure, and a few restarts give up
on a long parse. So each such delivery adds one to a counter in a NATS key-value bucket
(key `<durable>.<stream sequence>`), and a redelivered event subtracts it. The bucket is
written only on those deliveries and read only when an event is redelivered: the happy path
never touches it. A worker that dies mid-work records nothing, so a crash loop still runs
out of attempts.
"""

from __future__ import annotations

from nats.js import JetStreamContext, api
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError

BUCKET = "reactor_holds"


class Holds:
    def __init__(self, js: JetStreamContext, durable: str, *, replicas: int = 1) -> None:
        self._js, self._durable, self._replicas = js, durable, replicas
        self._kv = None

    async def _bucket(self):
        if self._kv is None:
            try:
                self._kv = await self._js.key_value(BUCKET)
            except (BucketNotFoundError, NotFoundError):
                config = api.KeyValueConfig(
                    bucket=BUCKET,
                    history=1,
                    storage=api.StorageType.FILE,
                    replicas=self._replicas,
                )
                self._kv = await self._js.create_key_value(config)
        return self._kv

    def _key(self, seq: int) -> str:
        return f"{self._durable}.{seq}"

    async def add(self, seq: int) -> None:
        """One more delivery of the event at `seq` that was not an attempt."""
        await (await self._bucket()).put(self._key(seq), str(await self.spent(seq) + 1).encode())

    async def spent(self, seq: int) -> int:
        """Deliveries of the event at `seq` that were not attempts (0 if none)."""
        try:
            entry = await (await self._bucket()).get(self._key(seq))
        except (KeyNotFoundError, NotFoundError):
            return 0
        return int(entry.value or b"0")

    async def forget(self, seq: int) -> None:
        """The event is done with; its count is no longer needed."""
        await (await self._bucket()).purge(self._key(seq))
