"""A real three-server NATS cluster with JetStream on loopback: `make run-cluster`'s event
log (streams kept on three servers, `SIMTUNE_STREAM_REPLICAS=3`) and the tests of it.

Each node is the embedded server (`runtime.devstack.nats_server.EmbeddedNats`: the same
`nats-server` binary, fsync on every write, the same users and permissions from
`runtime.nats_auth`) with a cluster listener and routes to the other two. The three share one
users folder, so a client signs in to any of them with the same password, and a connection
without credentials is refused as on a single server.

A node can be stopped (SIGTERM), killed (SIGKILL) and started again on the same ports and
store, which is how a test makes one server fail and come back. `meta_leader` waits, with a
deadline, until the cluster has elected the JetStream leader that creates streams.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import nats
from nats.aio.client import Client as NATS

from runtime.devstack.nats_server import MAX_PAYLOAD, EmbeddedNats
from runtime.devstack.util import free_port
from runtime.nats_auth import (
    ADMIN,
    authorization_config,
    ensure_credentials,
    read_credentials,
    write_private,
)

CLUSTER_NAME = "simtune"


class ClusterNode(EmbeddedNats):
    """One server of the cluster: its own client and route ports, its own store."""

    def __init__(self, name: str, data_dir: Path, users: Path, cluster_port: int) -> None:
        super().__init__(data_dir, port=free_port(self.host))
        self.name = name
        self.users_dir = users  # every node knows the same users
        self.cluster_port = cluster_port
        self.monitor_port = free_port(self.host)  # /jsz says who leads JetStream
        self.routes: list[int] = []  # the other nodes' cluster ports

    def _write_config(self) -> None:
        store = json.dumps(str(self.data_dir / "jetstream"))
        routes = ", ".join(f"nats-route://{self.host}:{port}" for port in self.routes)
        write_private(
            self.config_path,
            f"server_name: {self.name}\n"
            f"listen: {self.host}:{self.port}\n"
            f"http: {self.host}:{self.monitor_port}\n"
            f"max_payload: {MAX_PAYLOAD}\n"
            f"jetstream {{\n  store_dir: {store}\n  sync_interval: always\n}}\n"
            f"cluster {{\n  name: {CLUSTER_NAME}\n  listen: {self.host}:{self.cluster_port}\n"
            f"  routes: [{routes}]\n}}\n"
            + authorization_config(ensure_credentials(self.users_dir)),
        )

    def kill(self) -> None:
        """SIGKILL: the server dies at once, with whatever it had not written yet."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    def __repr__(self) -> str:
        return f"ClusterNode({self.name!r}, url={self.url!r})"


class NatsCluster:
    """Three clustered `nats-server`s under `root` (`n1`, `n2`, `n3`). Their users'
    passwords are under `users` (default `root/users`): `make run-cluster` passes
    SIMTUNE_HOME's (`runtime.nats_auth.users_dir`), where the services look for them."""

    def __init__(self, root: Path, size: int = 3, users: Path | None = None) -> None:
        self.root = Path(root)
        self.users = Path(users) if users is not None else self.root / "users"
        self.nodes = [
            ClusterNode(f"n{i + 1}", self.root / f"n{i + 1}", self.users, free_port())
            for i in range(size)
        ]
        for node in self.nodes:
            node.routes = [other.cluster_port for other in self.nodes if other is not node]

    @property
    def urls(self) -> list[str]:
        """Every node's client URL: a client given them all moves to another when one fails."""
        return [node.url for node in self.nodes]

    def node(self, name: str) -> ClusterNode:
        return next(node for node in self.nodes if node.name == name)

    def credentials(self, name: str = ADMIN) -> dict[str, str]:
        found = read_credentials(self.users, name)
        if found is None:
            raise FileNotFoundError(f"no NATS user {name!r} under {self.users}; start it first")
        return found

    def start(self) -> NatsCluster:
        ensure_credentials(self.users)
        try:
            for node in self.nodes:
                node.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    async def connect(self, name: str = ADMIN, **options) -> NATS:
        """A connection as `name` that knows every node and reconnects to a live one."""
        options = {
            "error_cb": _expected,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": 0.1,
            "connect_timeout": 2,
            **options,
        }
        return await nats.connect(servers=self.urls, **self.credentials(name), **options)

    async def meta_leader(self, timeout: float = 20.0) -> str:
        """The name of the JetStream meta leader once every running node agrees on one
        (within `timeout` seconds): until then no stream can be created."""
        deadline = time.monotonic() + timeout
        last: object = "no answer"
        async with httpx.AsyncClient(timeout=1.0) as http:
            while True:
                leaders = set()
                try:
                    for node in self.nodes:
                        if node.running:
                            url = f"http://{node.host}:{node.monitor_port}/jsz"
                            meta = (await http.get(url)).json().get("meta_cluster") or {}
                            leaders.add(meta.get("leader") or "")
                    last = leaders
                except (httpx.HTTPError, ValueError) as exc:  # a node still starting
                    last = repr(exc)
                    leaders = set()
                if len(leaders) == 1 and "" not in leaders:
                    return leaders.pop()
                if time.monotonic() > deadline:
                    raise AssertionError(f"no JetStream meta leader within {timeout} s ({last})")
                await asyncio.sleep(0.1)


async def _expected(error: Exception) -> None:
    """A connection's errors while a test stops its servers on purpose (EOF, refused
    reconnects) are what the test asked for: the client moves to another node by itself."""


@contextmanager
def nats_cluster(prefix: str = "simtune-cluster-") -> Iterator[NatsCluster]:
    """A started three-node cluster in a temporary folder, stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = NatsCluster(root)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
