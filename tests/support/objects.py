"""The object store as the services and the gateway use it, for tests that store or read
objects themselves: every object sealed for its owner, the keys asked of the running
services over NATS (as the gateway asks them)."""

from __future__ import annotations

from nats.aio.client import Client as NATS

from runtime.object_keys import RemoteObjectKeys
from runtime.objects import Objects


def sealed_objects(nc: NATS) -> Objects:
    return Objects(nc.jetstream(), RemoteObjectKeys(nc))
