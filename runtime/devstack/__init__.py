"""The embedded development stack: NATS (JetStream) + Postgres (pgvector) + supervisor.

``python -m runtime.devstack up`` runs everything; see :mod:`runtime.devstack.__main__`.
"""

from runtime.devstack.children import Child, RestartPolicy
from runtime.devstack.nats_server import EmbeddedNats, NatsStartError
from runtime.devstack.postgres import EmbeddedPostgres, PostgresStartError
from runtime.devstack.supervisor import DEFAULT_CHILDREN, Stack, StackError

__all__ = [
    "DEFAULT_CHILDREN",
    "Child",
    "EmbeddedNats",
    "EmbeddedPostgres",
    "NatsStartError",
    "PostgresStartError",
    "RestartPolicy",
    "Stack",
    "StackError",
]
