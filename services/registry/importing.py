"""Importing a `.tar.gz` as a version: ours (with its manifest) or another tool's (a PEFT
folder). The archive is unpacked into a fresh folder with every check in `archive.py`; the
base model it was trained on must be the expert's (`bases`); its files then go to the
`adapters` bucket, the folder moves into place, and one `AdapterRegistered` records it.
Anything refused leaves nothing behind: no folder, no stored file, and the uploaded archive
is deleted either way.

Every import gets an id of its own, new and random, never its manifest's: a manifest's id may
be another expert's version (the same export imported twice), and a version's folder and
stored files are keyed by its id alone, so deleting one copy would take the other's files.
The registration is decided on the expert's versions with that id: the same files imported
again (even by two requests at once) are one version, and the one that lost the race takes
back what it stored."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from contracts.base import DomainError, ErrorCode
from contracts.registry import (
    AdapterImported,
    AdapterRegistered,
    ImportAdapter,
    whole_digest,
)
from contracts.rules import clean_text
from contracts.trainer import BUCKET, RunMetrics
from runtime.adapter_files import adapter_folder, incoming_folder, move_into_place
from runtime.experts import require_expert
from runtime.objects import ObjectCorrupt, ObjectMissing
from services.registry import archive, domain
from services.registry.aggregates import EXPERT_VERSIONS
from services.registry.bases import same_base
from services.registry.commands import RegistryCommands

MAX_FILES = 32
REFUSED_STATUS = {"too_large": ErrorCode.TOO_LARGE, "too_many_files": ErrorCode.TOO_LARGE}


class Importing:
    def __init__(self, commands: RegistryCommands) -> None:
        self.commands = commands
        self.host = commands.host

    async def run(self, cmd: ImportAdapter) -> AdapterImported:
        try:
            return await self._import(cmd)
        except DomainError as refusal:
            await self.commands.refused(cmd.tenant, cmd.expert_id, "import", None, refusal,
                                        cmd.by)  # fmt: skip
            raise
        finally:
            await self.host.objects.delete(cmd.archive.bucket, cmd.archive.name)

    async def _import(self, cmd: ImportAdapter) -> AdapterImported:
        await require_expert(self.host.nc, cmd.tenant, cmd.expert_id)
        settings = self.host.settings
        incoming = await asyncio.to_thread(incoming_folder, settings.home)
        try:
            with tempfile.TemporaryFile() as received:
                await self.receive(cmd, received)
                unpacked = await asyncio.to_thread(self.unpack, received, incoming)
            return await self.register(cmd, incoming, unpacked)
        finally:
            await asyncio.to_thread(shutil.rmtree, incoming, True)

    async def receive(self, cmd: ImportAdapter, sink) -> None:
        try:
            await self.host.objects.read_into(
                cmd.archive.bucket, cmd.archive.name, sink, tenant=cmd.tenant
            )
        except (ObjectMissing, ObjectCorrupt) as exc:
            raise DomainError(
                ErrorCode.INVALID, f"the uploaded archive {cmd.filename} could not be read back"
            ) from exc
        sink.seek(0)
        digest = hashlib.file_digest(sink, "sha256").hexdigest()
        if digest != cmd.archive.sha256:
            raise DomainError(ErrorCode.INVALID, f"{cmd.filename} changed while it was stored")
        sink.seek(0)

    def unpack(self, received, incoming: Path) -> archive.Unpacked:
        with tempfile.NamedTemporaryFile(suffix=".tar.gz") as copy:
            shutil.copyfileobj(received, copy)
            copy.flush()
            try:
                return archive.unpack(
                    Path(copy.name),
                    incoming,
                    max_bytes=self.host.settings.max_adapter_unpacked_bytes,
                    max_files=MAX_FILES,
                )
            except archive.ArchiveRefused as refusal:
                code = REFUSED_STATUS.get(refusal.code, ErrorCode.INVALID)
                raise DomainError(code, str(refusal)) from refusal

    async def register(
        self, cmd: ImportAdapter, incoming: Path, unpacked: archive.Unpacked
    ) -> AdapterImported:
        manifest = unpacked.manifest
        theirs = (manifest.base_model if manifest else None) or unpacked.base_model
        ours = (await self.commands.base_of(cmd.tenant, cmd.expert_id)).model
        if not theirs:
            raise DomainError(
                ErrorCode.INVALID,
                "the archive does not say which base model it was trained on"
                " (adapter_config.json has no base_model_name_or_path)",
            )
        if not same_base(theirs, ours):
            raise DomainError(
                ErrorCode.INVALID,
                f"this adapter was trained on {theirs[:200]}, but the expert answers with"
                f" {ours[:200]}: it cannot be loaded on this base model",
            )
        files = unpacked.files
        digest = whole_digest(files)
        state, _ = await EXPERT_VERSIONS.load(self.host.store, cmd.tenant, cmd.expert_id)
        if (same := domain.duplicate_of(state, digest)) is not None:
            return duplicate(same, unpacked)
        adapter_id = new_id()
        for f in files:  # streamed from the folder: weights are never held in memory whole
            with (incoming / f.name).open("rb") as body:
                await self.host.objects.put(
                    BUCKET,
                    f"{cmd.tenant}/{adapter_id}/{f.name}",
                    body,
                    tenant=cmd.tenant,
                    known=(f.sha256, f.size),
                )
        target = adapter_folder(self.host.settings.home, adapter_id)
        (incoming / "manifest.json").unlink(missing_ok=True)  # written again from the log
        await asyncio.to_thread(move_into_place, incoming, target)
        registered = AdapterRegistered(
            adapter_id=adapter_id,
            expert_id=cmd.expert_id,
            source="imported",
            base_model=theirs[:200],
            backend=(manifest.backend if manifest else "peft"),
            files=files,
            run_id=manifest.run_id if manifest else None,
            dataset_id=manifest.dataset_id if manifest else None,
            config=manifest.config if manifest else None,
            metrics=manifest.metrics if manifest else RunMetrics(),
            traces_used=manifest.traces_used if manifest else 0,
            size_bytes=unpacked.size_bytes,
            sha256=digest,
            created_at=(manifest.created_at if manifest else None) or now(),
            tags=list(manifest.tags) if manifest else [],
            filename=clean_text(cmd.filename)[:255],
            by=cmd.by,
        )
        raced: list[domain.Version | None] = [None]  # the same files, registered meanwhile

        def decide(s: domain.Versions):
            raced[0] = domain.duplicate_of(s, digest)
            return None if raced[0] else domain.decide_import(s, registered)

        try:
            seq = await self.commands.decide(
                cmd.tenant, cmd.expert_id, "import", adapter_id, cmd.by, decide
            )
        except BaseException:
            await self.take_back(cmd.tenant, adapter_id, target, files)
            raise
        if raced[0] is not None:
            await self.take_back(cmd.tenant, adapter_id, target, files)
            return duplicate(raced[0], unpacked)
        return AdapterImported(adapter_id=adapter_id, seq=seq, valid=True,
                               skipped=unpacked.skipped)  # fmt: skip

    async def take_back(self, tenant: str, adapter_id: str, target: Path, files) -> None:
        """What an import that registered nothing stored: its folder and its files."""
        await asyncio.to_thread(shutil.rmtree, target, True)
        for f in files:
            await self.host.objects.delete(BUCKET, f"{tenant}/{adapter_id}/{f.name}")


def new_id() -> str:
    """A version id no other import or run has: random, never taken from the archive."""
    return uuid.uuid4().hex[:16]


def duplicate(version: domain.Version, unpacked: archive.Unpacked) -> AdapterImported:
    return AdapterImported(
        adapter_id=version.adapter_id, seq=0, valid=version.valid, duplicate=True,
        skipped=unpacked.skipped,
    )  # fmt: skip


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
