"""Reading a stream in order from a chosen sequence, with nothing kept on the server.

An `OrderedReader` is an ephemeral consumer (no acks, in memory, removed by the server soon
after its reader goes away) that starts where its owner says — a projection's checkpoint
+ 1 — and can be moved at any time (`seek`). It checks the consumer sequence of every
message: if one was missed (a reconnect, a dropped pull), it starts a new consumer after
the last message it handed out, so what it hands out has no holes.

It pulls with one open request at a time and hands out whatever has arrived as soon as
anything has (nats.py's `fetch` waits for the whole batch or the timeout, which would delay
every read-your-writes query by up to the timeout); while the owner works on one batch,
the rest of the request keeps arriving in the background.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

INACTIVE_THRESHOLD_S = 60.0  # the server removes a consumer nobody pulled from for this long
VERIFY_IDLE_S = 10.0  # while nothing arrives, check this often that the consumer still exists
ENDED = ("404", "408", "409")  # no messages, request expired, request ended (or consumer gone)
# 503: nobody answered the pull request: the consumer is gone


class OrderedReader:
    def __init__(self, js: JetStreamContext, stream: str, subject: str, *, batch: int = 256):
        self.js, self.stream, self.subject, self.batch = js, stream, subject, batch
        self.position = 0  # the stream sequence of the last message handed out
        self._nc = js._nc
        self._prefix = getattr(js, "_prefix", "$JS.API")
        self._sub = None
        self._name = ""
        self._inbox: deque = deque()
        self._arrived = asyncio.Event()
        self._consumer_seq = 0
        self._open_left, self._open_until = 0, 0.0  # the pull request still open
        self._pulled = self._verified = 0.0

    async def seek(self, seq: int) -> None:
        """Hand out messages from stream sequence `seq` on (1 = from the start)."""
        await self.close()
        seq = max(seq, 1)
        self._name = self._nc._nuid.next().decode()
        inbox, arrived = deque(), asyncio.Event()

        async def receive(msg) -> None:
            inbox.append(msg)
            arrived.set()

        self._inbox, self._arrived = inbox, arrived
        self._sub = await self._nc.subscribe(self._nc.new_inbox(), cb=receive)
        config = api.ConsumerConfig(
            name=self._name,
            filter_subject=self.subject,
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=seq,
            inactive_threshold=INACTIVE_THRESHOLD_S,
            mem_storage=True,
            num_replicas=1,
            max_deliver=1,
        )
        await self.js.add_consumer(self.stream, config)
        self.position, self._consumer_seq, self._open_left = seq - 1, 0, 0
        self._pulled = self._verified = time.monotonic()

    async def fetch(self, timeout: float = 1.0, batch: int | None = None) -> list:
        """The messages that arrived, in stream order, at most `batch` of them; waits up to
        `timeout` for the first one (an empty list when none came). The server is asked for
        `self.batch` at a time, so a larger request streams in while a batch is applied.

        A consumer the server may have dropped (left unpulled too long, a server restart,
        an error while pulling) is replaced by a new one after the last message handed out.
        """
        now = time.monotonic()
        if self._sub is None or now - self._pulled > INACTIVE_THRESHOLD_S / 2:
            await self.seek(self.position + 1)
        elif now - self._verified > VERIFY_IDLE_S and not self._inbox:
            await self._verify()
        if not self._inbox:
            await self._request(self.batch, timeout)
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return []
        try:
            return await self._take(batch or self.batch)
        except BaseException:
            await self.close()
            raise

    async def _request(self, batch: int, timeout: float) -> None:
        now = time.monotonic()
        if self._open_left > 0 and now < self._open_until:
            return  # the open request is still delivering
        self._pulled = now
        self._open_left, self._open_until = batch, now + timeout
        body = json.dumps({"batch": batch, "expires": int(timeout * 1e9)}).encode()
        subject = f"{self._prefix}.CONSUMER.MSG.NEXT.{self.stream}.{self._name}"
        await self._nc.publish(subject, body, reply=self._sub.subject)

    async def _take(self, batch: int) -> list:
        out = []
        while self._inbox and len(out) < batch:
            msg = self._inbox.popleft()
            status = (msg.headers or {}).get("Status") if not msg.data else None
            if status:
                if status in ENDED:
                    self._open_left = 0
                gone = (
                    status == "503" or "deleted" in (msg.headers.get("Description") or "").lower()
                )
                if gone:  # no consumer answers the pull (a server restart lost it, say)
                    await self.seek(self.position + 1)
                    return out
                continue
            self._open_left -= 1
            meta = msg.metadata.sequence
            if meta.consumer != self._consumer_seq + 1 or meta.stream <= self.position:
                await self.seek(self.position + 1)  # a message went missing: start again after
                return out
            self._consumer_seq, self.position = meta.consumer, meta.stream
            out.append(msg)
        if not self._inbox:
            self._arrived.clear()
        self._verified = time.monotonic()
        return out

    async def _verify(self) -> None:
        self._verified = time.monotonic()
        try:
            await self.js.consumer_info(self.stream, self._name)
        except NotFoundError:
            await self.seek(self.position + 1)

    async def close(self) -> None:
        """Unsubscribe and remove the consumer (the server would, after a while, anyway)."""
        sub, self._sub = self._sub, None
        self._inbox, self._open_left = deque(), 0
        if sub is None:
            return
        try:
            await sub.unsubscribe()
        except Exception:
            pass
        try:
            await asyncio.wait_for(self.js.delete_consumer(self.stream, self._name), timeout=2.0)
        except Exception:
            pass  # gone already, or the connection is: the inactive threshold cleans up
