"""Durable pull consumers over a context stream, shared by projectors and reactors."""

from __future__ import annotations

from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError


def durable_name(kind: str, name: str) -> str:
    return f"{kind}-{name}".replace(".", "-").replace("_", "-")


async def pull(
    js: JetStreamContext,
    stream: str,
    subject: str,
    durable: str,
    *,
    max_ack_pending: int,
    ack_wait_s: float = 60.0,
    start_seq: int = 0,
):
    """Bind to (or create) a durable pull consumer over `subject` of `stream`, in order."""
    config = api.ConsumerConfig(
        durable_name=durable,
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE if start_seq else api.DeliverPolicy.ALL,
        opt_start_seq=start_seq or None,
        ack_wait=ack_wait_s,
        max_ack_pending=max_ack_pending,
        max_deliver=-1,
    )
    return await js.pull_subscribe(subject=subject, durable=durable, stream=stream, config=config)


async def delete_durable(js: JetStreamContext, stream: str, durable: str) -> None:
    try:
        await js.delete_consumer(stream, durable)
    except NotFoundError:
        pass
