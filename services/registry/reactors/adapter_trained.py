"""Every adapter a run trains becomes a version: `AdapterTrained` (TRAINER) → its files copied
under `SIMTUNE_HOME/lora-adapters/<adapter_id>/` and checked → one `AdapterRegistered`.

The registration's event id is derived from the training event's, so a redelivery registers
nothing twice. Files that are missing or damaged in the store still register the version,
marked invalid with the reason: a person sees it and why, and it cannot be activated.
"""

from __future__ import annotations

from contracts.registry import AdapterRegistered, whole_digest
from contracts.trainer import BUCKET, AdapterTrained
from runtime.adapter_files import materialize
from runtime.eventstore import RecordedEvent, derived_id
from runtime.reactor import Progress
from runtime.service import Hosted
from services.registry.aggregates import EXPERT_VERSIONS
from services.registry.archive_checks import ADAPTER_NAMES, MANIFEST
from services.registry.reactors.expert_deleted import erased


class Registering(Hosted):
    async def on_trainer(self, rec: RecordedEvent, _: Progress) -> None:
        if not isinstance(rec.event, AdapterTrained):
            return
        ev = rec.event
        if await erased(self.host, rec.tenant, ev.expert_id):  # trained for a deleted expert
            await self.host.objects.delete_under(BUCKET, f"{rec.tenant}/{ev.adapter_id}/")
            return
        problems: list[str] = []
        # Only an adapter's own files make the version (what export packs and import takes);
        # anything else a saver left beside them (PEFT's README.md) is not part of it.
        files = [f for f in ev.files if f.name in ADAPTER_NAMES and f.name != MANIFEST]
        if files:
            _, problems = await materialize(
                self.host.objects, self.host.settings.home, rec.tenant, ev.adapter_id, files
            )
        registered = AdapterRegistered(
            adapter_id=ev.adapter_id,
            expert_id=ev.expert_id,
            source="trained",
            base_model=ev.base_model,
            backend=ev.backend,
            files=files,
            provider_model=ev.provider_model,
            run_id=ev.run_id,
            dataset_id=ev.dataset_id,
            config=ev.config,
            metrics=ev.metrics,
            traces_used=ev.train_examples,
            size_bytes=sum(f.size for f in files),
            sha256=whole_digest(files) if files else None,
            created_at=rec.occurred_at or rec.at.isoformat(),
            valid=not problems,
            problems=problems[:16],
            by="trainer",
        )

        def decide(state):
            if ev.adapter_id in state.versions or ev.adapter_id in state.deleted:
                return None  # registered already (a redelivery)
            return registered

        await EXPERT_VERSIONS.execute(
            self.host.store,
            rec.tenant,
            ev.expert_id,
            decide,
            event_id=derived_id(rec.event_id, "register"),
            correlation_id=rec.correlation_id,
            causation_id=rec.event_id,
        )
