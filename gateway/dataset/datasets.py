"""What the dataset context adds to its queries, for its API, its pages and the trainer's and
registry's pages: an expert's versions (a 404 for an expert that does not exist, rather than
an empty list), and the new version a change made (a version never changes: each edit,
deletion or addition makes one)."""

from __future__ import annotations

from contracts.base import Command
from contracts.dataset import DatasetView, GetDataset, ListDatasets
from contracts.expert import GetExpert
from gateway.backend import Backend

EXPORT_TIMEOUT_S = 60.0  # the split is written to the object store meanwhile


async def list_datasets(backend: Backend, expert_id: str, after_seq: int = 0) -> list[DatasetView]:
    """The expert's dataset versions, newest first; a 404 for an expert that does not exist."""
    await backend.ask(GetExpert(expert_id=expert_id))
    query = ListDatasets(expert_id=expert_id, after_seq=after_seq)
    return (await backend.ask(query)).datasets


async def new_version(backend: Backend, cmd: Command) -> DatasetView:
    """A build, edit, deletion or addition: the version it made, as it is once made."""
    accepted = await backend.send(cmd)
    return await backend.ask(GetDataset(dataset_id=accepted.id, after_seq=accepted.seq))
