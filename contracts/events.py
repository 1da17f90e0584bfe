"""Every event type of every context, so the log can be decoded in one place."""

from __future__ import annotations

from contracts.accounts import AccountsEvent, ExportEvent
from contracts.answers import AnswerEvent, BackendConfigured
from contracts.benchmark import BenchmarkEvent
from contracts.community import CommunityEvent
from contracts.dataset import DatasetEvent
from contracts.erasure import ErasureEvent
from contracts.expert import ExpertEvent
from contracts.ingest import IngestEvent
from contracts.knowledge import KnowledgeEvent
from contracts.registry import RegistryEvent
from contracts.trainer import TrainerEvent

AnyEvent = (
    ExpertEvent
    | BackendConfigured
    | AnswerEvent
    | IngestEvent
    | KnowledgeEvent
    | DatasetEvent
    | TrainerEvent
    | RegistryEvent
    | BenchmarkEvent
    | AccountsEvent
    | ErasureEvent
    | ExportEvent
    | CommunityEvent
)

STREAMS = {
    "expert": "EXPERT",
    "ingest": "INGEST",
    "knowledge": "KNOWLEDGE",
    "dataset": "DATASET",
    "trainer": "TRAINER",
    "registry": "REGISTRY",
    "benchmark": "BENCHMARK",
    "accounts": "ACCOUNTS",
    "community": "COMMUNITY",
}

# What a person can follow live (`/api/events`): every context but accounts, whose events
# (addresses, key fingerprints) are nobody's feed and are never announced.
FOLLOWED = {context: stream for context, stream in STREAMS.items() if context != "accounts"}
