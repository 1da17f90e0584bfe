"""The three-server NATS cluster for tests: the product's own (`runtime.devstack.nats_cluster`,
which `make run-cluster` runs), named here for the tests that already import it from here."""

from runtime.devstack.nats_cluster import (
    CLUSTER_NAME,
    ClusterNode,
    NatsCluster,
    nats_cluster,
)

__all__ = ["CLUSTER_NAME", "ClusterNode", "NatsCluster", "nats_cluster"]
