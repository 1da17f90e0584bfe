"""`make run-cluster`: the whole stack as a cluster on one machine.

Three `nats-server`s clustered on loopback keep every stream, bucket and object store on
all three (`SIMTUNE_STREAM_REPLICAS=3`), so the event log takes writes while any one of them
is down. Postgres is the server that `DATABASE_URL` names when it is set (an external one,
checked at start and never restarted by the stack), else the embedded one `make run` starts;
the services reach either by its URL alone. Every service and the gateway run as `replicas`
processes each: replicas of a service share its work queues and take turns on its
projections (docs/architecture.md "Projections"), and the gateways listen on the one port together
(`SO_REUSEPORT`, `SIMTUNE_REUSE_PORT=1`), the kernel handing each new connection to one of
them. The supervisor restarts whatever dies, a NATS node included, as `make run`'s does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runtime.cpus import cores
from runtime.devstack.children import Child, ChildRunner
from runtime.devstack.nats_cluster import NatsCluster
from runtime.devstack.nats_server import EmbeddedNats
from runtime.devstack.supervisor import DEFAULT_CHILDREN, Stack, StackError
from runtime.nats_auth import users_dir
from runtime.settings import Settings

CLUSTER_SIZE = 3
DEFAULT_REPLICAS = 2
REUSE_PORT_ENV = "SIMTUNE_REUSE_PORT"  # `Settings.reuse_port`, read by `python -m gateway`
MODEL_THREADS_ENV = "SIMTUNE_MODEL_THREADS"  # read by the expert service's local model
EMBED_THREADS_ENV = "SIMTUNE_EMBED_THREADS"  # read by the knowledge service's embedder
META_LEADER_TIMEOUT_S = 60.0  # no stream can be made before the nodes elect a leader


def model_threads(replicas: int) -> int:
    """The threads each expert (or knowledge) process answers (or embeds) with when `replicas`
    of them share this machine: its share of the cores. Each taking every core, their numeric
    libraries' threads outnumber the cores and slow one another far more than a second
    process adds (measured: docs/benchmarks.md "cluster")."""
    return max(1, cores() // max(replicas, 1))


def replicated(children: Sequence[Child], replicas: int) -> tuple[Child, ...]:
    """Each child `replicas` times, named `<name>-1`, `<name>-2`, … (their logs apart)."""
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    return tuple(
        Child(f"{child.name}-{n}", child.module, child.args)
        for child in children
        for n in range(1, replicas + 1)
    )


class ClusterStack(Stack):
    """A :class:`Stack` whose NATS is a three-node cluster under `<home>/nats-cluster`
    (the users' passwords where the services look for them, `<home>/nats/users`) and whose
    `children` each run `replicas` times.

    `nats` is the first node (for a client that wants one URL); `nats_url` names all three.
    Each child is given all three in NATS_URL, a different one first, taken in turn so that
    the replicas of a service start on different servers; when its server goes away the
    client moves to another, and a child restarted while its first node is down connects to
    the next.
    """

    def __init__(
        self,
        home: Path,
        *,
        replicas: int = DEFAULT_REPLICAS,
        children: Sequence[Child] = DEFAULT_CHILDREN,
        env: Mapping[str, str] | None = None,
        **kwargs: Any,
    ):
        share = str(model_threads(replicas))
        env = {
            # each model's processes their share of the cores, unless `env` says otherwise
            MODEL_THREADS_ENV: share,
            EMBED_THREADS_ENV: share,
            **(env or {}),
            "SIMTUNE_STREAM_REPLICAS": str(CLUSTER_SIZE),
            REUSE_PORT_ENV: "1",
        }
        super().__init__(home, children=replicated(children, replicas), env=env, **kwargs)
        self.replicas = replicas
        self.cluster = NatsCluster(
            self.home / "nats-cluster", size=CLUSTER_SIZE, users=users_dir(self.home)
        )
        self.nats = self.cluster.nodes[0]
        self.server_restarts = {name: 0 for name, _ in self.nats_servers()}
        self.server_restarts["postgres"] = 0

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ClusterStack:
        return cls(settings.home, host=settings.host, port=settings.port, **kwargs)

    @property
    def nats_url(self) -> str:
        return ",".join(self.cluster.urls)

    def nats_servers(self) -> list[tuple[str, EmbeddedNats]]:
        return [(f"nats-{node.name}", node) for node in self.cluster.nodes]

    async def _servers_ready(self) -> None:
        try:
            leader = await self.cluster.meta_leader(META_LEADER_TIMEOUT_S)
        except AssertionError as exc:  # the servers run but do not agree: say where to look
            logs = ", ".join(str(node.log_path) for node in self.cluster.nodes)
            raise StackError(f"the NATS cluster did not form ({exc}); see {logs}") from None
        self._say(f"NATS cluster of {CLUSTER_SIZE} up; JetStream leader {leader}", "dim")

    def _env_for(self, runner: ChildRunner, env: dict[str, str]) -> dict[str, str]:
        turn = list(self.runners).index(runner.spec.name) % CLUSTER_SIZE
        urls = [node.url for node in self.cluster.nodes]
        return {**env, "NATS_URL": ",".join(urls[turn:] + urls[:turn])}
