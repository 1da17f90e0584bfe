"""Adapter archives: an export packs to the same bytes every time and unpacks to a folder PEFT
loads; another tool's archive is accepted; every malicious or broken archive is refused with
its code before anything is written. A tiny real LoRA is made here; nothing is downloaded."""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
import torch
from peft import PeftModel
from transformers import LlamaForCausalLM

from contracts.registry import MANIFEST, Manifest, whole_digest
from contracts.trainer import ADAPTER_FILES, AdapterFile
from runtime.adapter_files import hash_files, problems_of
from services.registry.archive import ArchiveRefused, pack, unpack
from tests.support.tiny_llm import build_tiny_llm, random_lora

MB = 1_000_000
OUTSIDE = Path("/tmp/simtune-archive-test-absolute.txt")  # where an absolute member aims
PROMPT = torch.tensor([[1, 5, 9, 13, 2]])


@dataclass(frozen=True)
class Adapter:
    base: Path  # the base model's folder
    folder: Path  # the LoRA as PEFT saved it: adapter_config.json, weights, README.md
    manifest: Manifest
    logits: torch.Tensor  # what the base model with the LoRA says to PROMPT

    def entries(self, manifest: Manifest | bytes | None = None) -> list[tuple[str, bytes]]:
        """The adapter's two files, and `manifest.json` when one is given."""
        entries = [(name, (self.folder / name).read_bytes()) for name in ADAPTER_FILES]
        if isinstance(manifest, Manifest):
            manifest = msgspec.json.encode(manifest)
        return entries if manifest is None else [*entries, (MANIFEST, manifest)]


@pytest.fixture(scope="module")
def adapter(tmp_path_factory) -> Adapter:
    root = tmp_path_factory.mktemp("adapter")
    build_tiny_llm(root / "base")
    random_lora(root / "base", root / "lora", seed=0, rank=4)
    files = hash_files(root / "lora", list(ADAPTER_FILES))
    manifest = Manifest(
        id="sky-v1",
        created_at="2025-05-01T12:00:00Z",
        base_model=str(root / "base"),
        files=files,
        sha256=whole_digest(files),
    )
    base = LlamaForCausalLM.from_pretrained(root / "base").eval()
    with torch.no_grad():
        logits = PeftModel.from_pretrained(base, root / "lora").eval()(input_ids=PROMPT).logits
    return Adapter(root / "base", root / "lora", manifest, logits)


def packed(adapter: Adapter) -> bytes:
    sink = io.BytesIO()
    pack(adapter.folder, adapter.manifest, sink)
    return sink.getvalue()


def targz(*entries: tuple[str, bytes] | tarfile.TarInfo) -> bytes:
    """A `.tar.gz` of (name, bytes) files and of headers crafted as they come."""
    sink = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=sink, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
    return sink.getvalue()


def header(name: str, kind: bytes, **fields) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for field, value in fields.items():
        setattr(info, field, value)
    return info


def with_manifest(adapter: Adapter, **changes) -> bytes:
    return targz(*adapter.entries(msgspec.structs.replace(adapter.manifest, **changes)))


def with_config(config: bytes, weights: str) -> bytes:
    """An archive of just this adapter_config.json and a weights file of that name."""
    return targz(("adapter_config.json", config), (weights, b"\x80\x04weights"))


def unpack_to(tmp_path: Path, archive: bytes, **limits):
    (tmp_path / "upload.tar.gz").write_bytes(archive)
    (dest := tmp_path / "jail" / "dest").mkdir(parents=True)
    return unpack(tmp_path / "upload.tar.gz", dest, max_bytes=limits.pop("max_bytes", MB), **limits)


def test_an_export_packs_to_the_same_bytes_and_unpacks_to_its_files(adapter, tmp_path):
    archive = packed(adapter)
    assert packed(adapter) == archive
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        headers = tar.getmembers()
    assert [h.name for h in headers] == [MANIFEST, *sorted(ADAPTER_FILES)]
    assert {(h.uid, h.gid, h.uname, h.gname, h.mode, h.type) for h in headers} == {
        (0, 0, "", "", 0o644, tarfile.REGTYPE)
    }
    assert {h.mtime for h in headers} == {1746100800}  # the manifest's createdAt

    unpacked = unpack_to(tmp_path, archive)

    dest = tmp_path / "jail" / "dest"
    assert sorted(p.name for p in dest.iterdir()) == sorted([MANIFEST, *ADAPTER_FILES])
    for name in ADAPTER_FILES:
        assert (dest / name).read_bytes() == (adapter.folder / name).read_bytes()
    assert unpacked.manifest == adapter.manifest
    assert unpacked.files == adapter.manifest.files
    assert unpacked.base_model == str(adapter.base)
    assert unpacked.skipped == []
    assert unpacked.size_bytes == sum(f.size for f in adapter.manifest.files)


def test_the_unpacked_folder_loads_with_peft_and_answers_the_same(adapter, tmp_path):
    unpack_to(tmp_path, packed(adapter))
    base = LlamaForCausalLM.from_pretrained(adapter.base).eval()
    with torch.no_grad():
        plain = base(input_ids=PROMPT).logits
        loaded = PeftModel.from_pretrained(base, tmp_path / "jail" / "dest").eval()
        logits = loaded(input_ids=PROMPT).logits
    assert torch.equal(logits, adapter.logits)
    assert not torch.allclose(logits, plain)  # the LoRA does change the answer


def test_another_tools_archive_in_a_folder_without_a_manifest_is_accepted(adapter, tmp_path):
    sink = io.BytesIO()
    with tarfile.open(fileobj=sink, mode="w:gz") as tar:
        tar.add(adapter.folder, arcname="myadapter")  # README.md as PEFT wrote it, too
        tar.add(adapter.folder / ADAPTER_FILES[0], arcname="myadapter/checkpoint-1/w.bin")

    unpacked = unpack_to(tmp_path, sink.getvalue())

    assert unpacked.manifest is None
    assert [f.name for f in unpacked.files] == sorted(ADAPTER_FILES)
    assert unpacked.skipped == ["myadapter/README.md", "myadapter/checkpoint-1/w.bin"]
    assert sorted(p.name for p in (tmp_path / "jail" / "dest").iterdir()) == sorted(ADAPTER_FILES)


def _lists_metrics(adapter: Adapter) -> list[AdapterFile]:
    return [*adapter.manifest.files, AdapterFile(name="metrics.json", sha256="1" * 64, size=2)]


def _changed_weights(adapter: Adapter) -> list[AdapterFile]:
    return [
        msgspec.structs.replace(f, sha256="2" * 64) if f.name == "adapter_model.safetensors" else f
        for f in adapter.manifest.files
    ]


def _bad_field(adapter: Adapter) -> bytes:
    document = msgspec.to_builtins(adapter.manifest) | {"createdAt": 5}
    return targz(*adapter.entries(msgspec.json.encode(document)))


REFUSED = [
    ("path_traversal", "../escaped", lambda a: targz(*a.entries(), ("../escaped.txt", b"x")), MB),
    ("absolute_path", str(OUTSIDE), lambda a: targz(*a.entries(), (str(OUTSIDE), b"x")), MB),
    ("link", "evil", lambda a: targz(header("evil", tarfile.SYMTYPE, linkname="../..")), MB),
    ("link", "copy", lambda a: targz(*a.entries(), header("copy", tarfile.LNKTYPE, linkname="adapter_config.json")), MB),
    ("special_file", "null", lambda a: targz(header("null", tarfile.CHRTYPE, devmajor=1, devminor=3)), MB),
    ("special_file", "pipe", lambda a: targz(header("pipe", tarfile.FIFOTYPE)), MB),
    ("too_large", "adapter_", lambda a: targz(*a.entries()), 1000),
    ("too_large", "zeros", lambda a: targz(*a.entries(), ("zeros", bytes(50 * MB))), MB),
    ("too_large", "with headers", lambda a: targz(header("x", tarfile.REGTYPE, pax_headers={"comment": "0" * 5 * MB})), MB),
    ("too_many_files", "32", lambda a: targz(*a.entries(), *[(f"n{i}", b"") for i in range(31)]), MB),
    ("duplicate_member", "adapter_config.json", lambda a: targz(*a.entries(), a.entries()[1]), MB),
    ("bad_manifest", "manifest.json is not valid", lambda a: targz(*a.entries(b"{not json")), MB),
    ("bad_manifest", "$.createdAt", _bad_field, MB),
    ("bad_manifest", "other/1", lambda a: with_manifest(a, format="other/1"), MB),
    ("bad_manifest", "metrics.json", lambda a: with_manifest(a, files=_lists_metrics(a)), MB),
    ("hash_mismatch", "adapter_model.safetensors", lambda a: with_manifest(a, files=_changed_weights(a)), MB),
    ("hash_mismatch", "manifest.json's sha256", lambda a: with_manifest(a, sha256="0" * 64), MB),
    ("not_an_archive", "not a complete", lambda a: b"PK\x03\x04 a zip, say", MB),
    ("not_an_archive", "not a complete", lambda a: packed(a)[: len(packed(a)) // 2], MB),
    ("not_an_archive", "not a complete", lambda a: gzip.compress(b"plain text " * 100), MB),
    ("unsafe_weights", "pickled", lambda a: with_config(b'{"peft_type": "LORA"}', "adapter_model.bin"), MB),
    ("not_lora", "PREFIX_TUNING", lambda a: with_config(b'{"peft_type": "PREFIX_TUNING"}', "adapter_model.safetensors"), MB),
    ("not_an_adapter", "not JSON", lambda a: with_config(b"{", "adapter_model.safetensors"), MB),
    ("not_an_adapter", "adapter_config.json", lambda a: targz(a.entries()[0]), MB),
]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "named", "build", "max_bytes"),
    REFUSED,
    ids=[f"{code}-{i}" for i, (code, *_) in enumerate(REFUSED)],
)
def test_a_bad_archive_is_refused_before_anything_is_written(
    adapter, tmp_path, code, named, build, max_bytes
):
    archive = build(adapter)
    with pytest.raises(ArchiveRefused) as refused:
        unpack_to(tmp_path, archive, max_bytes=max_bytes)
    assert refused.value.code == code
    assert named in refused.value.sentence
    assert sorted(tmp_path.rglob("*")) == [
        tmp_path / "jail",
        tmp_path / "jail" / "dest",
        tmp_path / "upload.tar.gz",
    ]
    assert not OUTSIDE.exists()


def test_a_version_folder_check_finds_a_changed_byte_and_a_missing_file(adapter, tmp_path):
    unpack_to(tmp_path, packed(adapter))
    folder = tmp_path / "jail" / "dest"
    assert problems_of(folder, adapter.manifest.files) == []

    weights = folder / "adapter_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    (folder / "adapter_config.json").unlink()

    assert problems_of(folder, adapter.manifest.files) == [
        "adapter_config.json is missing",
        "adapter_model.safetensors does not match its recorded sha256 (it was changed)",
    ]


def test_pack_refuses_a_manifest_listing_a_file_that_is_not_the_adapters(adapter):
    listed = [*adapter.manifest.files, AdapterFile(name="README.md", sha256="3" * 64, size=1)]
    with pytest.raises(ValueError, match="README.md"):
        pack(adapter.folder, msgspec.structs.replace(adapter.manifest, files=listed), io.BytesIO())


def test_json_files_are_read_into_memory_only_at_the_adapters_root_and_only_small(
    adapter, tmp_path
):
    from services.registry.archive_checks import JSON_CAP, survey

    zeros = b"\0" * (4 * JSON_CAP)  # a gzip of zeros: 4 MB each that cost the upload ~4 kB
    bomb = targz(
        *adapter.entries(adapter.manifest),
        *((f"deep/{n}/adapter_config.json", zeros) for n in range(8)),
        *((f"deep/{n}/x/manifest.json", zeros) for n in range(8)),
    )
    assert len(bomb) < len(zeros) / 10
    (archive := tmp_path / "bomb.tar.gz").write_bytes(bomb)
    members = survey(archive, tmp_path / "dest", max_bytes=100 * JSON_CAP, max_files=64)
    read = {key: len(m.data) for key, m in members.items() if m.data is not None}
    assert read.keys() == {"adapter_config.json", MANIFEST}  # only the adapter's own two
    assert sum(read.values()) < 2 * JSON_CAP

    unpacked = unpack_to(tmp_path, bomb, max_bytes=100 * JSON_CAP)  # and it still imports
    assert [f.name for f in unpacked.files] == sorted(ADAPTER_FILES)
    assert len(unpacked.skipped) == 16

    oversized = targz(("adapter_config.json", b"{" + b" " * JSON_CAP + b"}"), ("w", b"1"))
    (again := tmp_path / "again").mkdir()
    with pytest.raises(ArchiveRefused) as refused:
        unpack_to(again, oversized)
    assert refused.value.code == "too_large" and "adapter_config.json" in refused.value.sentence
