"""Whether an archive's files make an adapter, decided from `archive_checks.survey`'s
members before any of them is written: `layout` decides which files are the adapter's, and
`check_adapter` whether they make a LoRA adapter whose `manifest.json`, when there is one,
tells the truth about them. Every refusal is an `ArchiveRefused`."""

from __future__ import annotations

import msgspec

from contracts.registry import MANIFEST, MANIFEST_FORMAT, Manifest, whole_digest
from contracts.trainer import ADAPTER_FILES, AdapterFile
from services.registry.archive_checks import (
    ADAPTER_NAMES,
    CONFIG,
    PICKLED_WEIGHTS,
    WEIGHTS,
    ArchiveRefused,
    Member,
)


def layout(members: dict[str, Member]) -> tuple[dict[str, Member], list[str]]:
    """The adapter's files by name, and the paths of the other files, which are skipped.

    Only files at the root are the adapter's, the root being the one folder that holds all
    else when there is one (`tar czf a.tgz myadapter/` puts everything in `myadapter/`)."""
    tops = {member.parts[0] for member in members.values()}
    at_root = any(m.is_file and len(m.parts) == 1 for m in members.values())
    depth = 1 if len(tops) == 1 and not at_root else 0
    kept: dict[str, Member] = {}
    skipped: list[str] = []
    for key, member in members.items():
        relative = member.parts[depth:]
        if member.is_file and len(relative) == 1 and relative[0] in ADAPTER_NAMES:
            kept[relative[0]] = member
        elif member.is_file:
            skipped.append(key)
    return kept, sorted(skipped)


def check_adapter(
    kept: dict[str, Member], skipped: list[str]
) -> tuple[list[AdapterFile], Manifest | None, str | None]:
    """The adapter's files (manifest.json aside), its manifest and its base model, once it
    is sure they are a LoRA adapter in safetensors that its manifest describes truly."""
    if WEIGHTS not in kept and any(path.rsplit("/", 1)[-1] == PICKLED_WEIGHTS for path in skipped):
        raise ArchiveRefused(
            "unsafe_weights",
            f"{PICKLED_WEIGHTS}: only safetensors weights are accepted: "
            "pickled .bin files can run code when loaded",
        )
    for name in ADAPTER_FILES:
        if name not in kept:
            raise ArchiveRefused("not_an_adapter", f"the archive has no {name}")
    base_model = _check_config(kept[CONFIG].data or b"")
    files = [
        AdapterFile(name=name, sha256=member.sha256, size=member.size)
        for name, member in sorted(kept.items())
        if name != MANIFEST
    ]
    manifest = _check_manifest(kept[MANIFEST].data or b"", files) if MANIFEST in kept else None
    return files, manifest, base_model


def _check_config(data: bytes) -> str | None:
    """The base model that adapter_config.json names, once it is sure it is a LoRA's."""
    try:
        config = msgspec.json.decode(data)
    except msgspec.DecodeError as error:
        raise ArchiveRefused("not_an_adapter", f"{CONFIG} is not JSON ({error})") from error
    if not isinstance(config, dict):
        raise ArchiveRefused("not_an_adapter", f"{CONFIG} is not a JSON object")
    if config.get("peft_type") != "LORA":
        raise ArchiveRefused(
            "not_lora",
            f"{CONFIG} says peft_type {config.get('peft_type')!r}: only LoRA adapters are accepted",
        )
    base_model = config.get("base_model_name_or_path")
    return base_model if isinstance(base_model, str) and base_model else None


def _check_manifest(data: bytes, files: list[AdapterFile]) -> Manifest:
    """The manifest, once it is sure that it lists exactly `files`, with their hashes."""
    try:
        manifest = msgspec.json.decode(data, type=Manifest)
    except msgspec.DecodeError as error:
        raise ArchiveRefused("bad_manifest", f"{MANIFEST} is not valid: {error}") from error
    if manifest.format != MANIFEST_FORMAT:
        raise ArchiveRefused(
            "bad_manifest", f"{MANIFEST} is in format {manifest.format!r}, not {MANIFEST_FORMAT!r}"
        )
    listed = {f.name: f for f in manifest.files}
    actual = {f.name: f for f in files}
    if len(listed) != len(manifest.files):
        raise ArchiveRefused("bad_manifest", f"{MANIFEST} lists a file twice")
    if absent := sorted(listed.keys() - actual.keys()):
        raise ArchiveRefused(
            "bad_manifest", f"{MANIFEST} lists {', '.join(absent)}, not in the archive"
        )
    if unlisted := sorted(actual.keys() - listed.keys()):
        raise ArchiveRefused("bad_manifest", f"{MANIFEST} does not list {', '.join(unlisted)}")
    for name, recorded in sorted(listed.items()):
        if recorded != actual[name]:
            raise ArchiveRefused(
                "hash_mismatch", f"{name} does not match the sha256 and size {MANIFEST} records"
            )
    if manifest.sha256 is not None and manifest.sha256 != whole_digest(files):
        raise ArchiveRefused(
            "hash_mismatch", f"{MANIFEST}'s sha256 is not the digest of the files it lists"
        )
    return manifest
