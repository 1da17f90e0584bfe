"""What the registry context adds to its commands, for its API and its pages: a deletion
that answers the version as it was once the expert's list no longer has it, and how long an
archive may take (it is unpacked and hashed, or packed, meanwhile)."""

from __future__ import annotations

from contracts.registry import AdapterView, DeleteAdapter, GetAdapter, ListAdapters
from gateway.backend import Backend

ARCHIVE_TIMEOUT_S = 120.0


async def delete_adapter(backend: Backend, cmd: DeleteAdapter) -> AdapterView:
    """The version as it was; once this returns, the expert's list no longer has it."""
    view = await backend.ask(GetAdapter(adapter_id=cmd.adapter_id))
    await backend.send(cmd, then=ListAdapters(expert_id=view.expert_id))
    return view
