"""Importing a `.tar.gz` as a version: ours (with its manifest) or another tool's (a PEFT
folder). The archive is unpacked into a fresh folder with every check in `archive.py`; the
base model it was trained on must be the one the expert answers with; its files then go to
the `adapters` bucket, the folder moves into place, and one `AdapterRegistered` records it.
Anything refused leaves nothing behind: no folder, no stored file, and the uploaded archive
is deleted either way."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from contracts.base import DomainError, ErrorCode
from contracts.registry import (
    AdapterImported,
    AdapterRegistered,
    ImportAdapter,
    whole_digest,
)
from contracts.rules import clean_text, is_token
from contracts.trainer import BUCKET, RunMetrics
from runtime.adapter_files import adapter_folder, incoming_folder, move_into_place
from runtime.experts import require_expert
from runtime.objects import ObjectCorrupt, ObjectMissing
from services.registry import archive, views
from services.registry.aggregates import EXPERT_VERSIONS
from services.registry.commands import RegistryCommands

MAX_FILES = 32
REFUSED_STATUS = {"too_large": ErrorCode.TOO_LARGE, "too_many_files": ErrorCode.TOO_LARGE}
ALIASES = {  # names of the bundled base model, as other tools write it
    "smollm2": ("smollm2", "smollm2-135m-instruct", "huggingfacetb/smollm2-135m-instruct"),
}


def same_base(theirs: str, ours: str) -> bool:
    """Whether an adapter trained on `theirs` fits the base model `ours` (a name or a path)."""
    a, b = theirs.strip().rstrip("/").lower(), ours.strip().rstrip("/").lower()
    if a == b or Path(a).name == Path(b).name:
        return True
    names = ALIASES.get(b, ())
    return a in names or Path(a).name in {Path(n).name for n in names}


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
            await self.host.objects.read_into(cmd.archive.bucket, cmd.archive.name, sink)
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
        ours = self.host.settings.base_model
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
        for version in state.versions.values():
            if version.registered.sha256 == digest:
                return AdapterImported(
                    adapter_id=version.adapter_id, seq=0, valid=version.valid, duplicate=True,
                    skipped=unpacked.skipped,
                )  # fmt: skip
        adapter_id = await self.new_id(cmd, manifest, digest)
        for f in files:  # streamed from the folder: weights are never held in memory whole
            with (incoming / f.name).open("rb") as body:
                await self.host.objects.put(
                    BUCKET, f"{cmd.tenant}/{adapter_id}/{f.name}", body, known=(f.sha256, f.size)
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
        try:
            seq = await self.commands.decide(
                cmd.tenant, cmd.expert_id, "import", adapter_id, cmd.by,
                lambda s: None if adapter_id in s.versions else registered,
            )  # fmt: skip
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, target, True)
            for f in files:
                await self.host.objects.delete(BUCKET, f"{cmd.tenant}/{adapter_id}/{f.name}")
            raise
        return AdapterImported(adapter_id=adapter_id, seq=seq, valid=True,
                               skipped=unpacked.skipped)  # fmt: skip

    async def new_id(self, cmd: ImportAdapter, manifest, digest: str) -> str:
        """The manifest's id when it is free here (an export coming home keeps its name),
        else one derived from the expert and the files."""
        async with self.host.engine.connect() as conn:
            ours = manifest is not None and is_token(manifest.id)
            if ours and not await views.id_taken(conn, manifest.id):
                return manifest.id
            for n in range(1000):
                seed = f"import:{cmd.tenant}:{cmd.expert_id}:{digest}:{n}"
                candidate = hashlib.sha256(seed.encode()).hexdigest()[:16]
                if not await views.id_taken(conn, candidate):
                    return candidate
        raise DomainError(ErrorCode.CONFLICT, "no free id for this version; try again")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
