"""Durable pull consumers over a context stream: the work queues of reactors."""

from __future__ import annotations

from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError

from runtime.logs import get_logger

log = get_logger(__name__)


def durable_name(kind: str, name: str) -> str:
    return f"{kind}-{name}".replace(".", "-").replace("_", "-")


def work_queue_config(
    durable: str, subject: str, *, ack_wait_s: float, max_ack_pending: int
) -> api.ConsumerConfig:
    """A reactor's consumer: every event of `subject` from the start, acked one by one.

    JetStream's own `max_deliver` is unlimited on purpose: the reactor counts the attempts
    of the events it can read and decides the failure itself after its limit
    (`runtime/reactor.py`). A server-side limit would also count the deliveries of an event
    this build cannot read yet, and silently drop it once reached.
    """
    return api.ConsumerConfig(
        name=durable,
        durable_name=durable,
        filter_subject=subject,
        ack_policy=api.AckPolicy.EXPLICIT,
        deliver_policy=api.DeliverPolicy.ALL,
        ack_wait=ack_wait_s,
        max_ack_pending=max_ack_pending,
        max_deliver=-1,
    )


async def work_queue(
    js: JetStreamContext,
    stream: str,
    subject: str,
    durable: str,
    *,
    ack_wait_s: float,
    max_ack_pending: int,
    workers: int = 1,
) -> list[JetStreamContext.PullSubscription]:
    """Create the durable, or bring an existing one up to `work_queue_config`; bind to it
    once per worker (each worker fetches on its own subscription).

    `pull_subscribe` would bind an existing durable as it is, so a changed ack wait or limit
    (a new release, a setting) would never take effect; here the config is always applied.
    A durable whose config cannot be changed in place (another filter or start) is kept as
    it is, with a warning: deleting it would lose its position.
    """
    config = work_queue_config(
        durable, subject, ack_wait_s=ack_wait_s, max_ack_pending=max_ack_pending
    )
    try:
        await js.add_consumer(stream, config)
    except BadRequestError as exc:
        log.warning("consumer.config_kept", stream=stream, durable=durable, error=str(exc))
    return [await js.pull_subscribe_bind(durable=durable, stream=stream) for _ in range(workers)]


async def delete_durable(js: JetStreamContext, stream: str, durable: str) -> None:
    try:
        await js.delete_consumer(stream, durable)
    except NotFoundError:
        pass
