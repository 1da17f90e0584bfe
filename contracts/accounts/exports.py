"""Export my data, import it elsewhere: the archive's format and the jobs that make and read it.

A person's archive is one ZIP: `manifest.json` first (the format, when it was made, counts
of what it holds and every other member's path, size and sha256), then each expert's folder
(`experts/<expert_id>/…`: the profile and style guide, the original documents, traces with
feedback and edits as JSONL, dataset versions as chat JSONL, adapters as the registry
exports them, benchmark runs and results as JSON and CSV, fine-tuning runs and the audit
trail as JSON). The manifest names no tenant and no person, so an archive moves between
installs as it is.

Making it and restoring from it are jobs, each an aggregate of its own on the ACCOUNTS log
(`export.<job_id>`, `import.<job_id>`) under the person's tenant. Their events carry counts,
ids and sentences Simtune wrote, never content: a name, a question or a file name stays in
the archive and off the log.

The checks of an archive live here, beside the format, because three places need them the
same: the accounts service before an import starts, the CLI after a download, and tests.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from typing import IO, Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from contracts.base import Command, Event, ObjectRef, Query, Reply
from contracts.rules import Count, Sha256, Token, items, line, prose

EXPORT_AGGREGATE = "export"
IMPORT_AGGREGATE = "import"
EXPORTS_BUCKET = "account-exports"  # finished archives: <tenant>/<job_id>.zip
UPLOADS_BUCKET = "account-imports"  # archives received for import: <tenant>/<sha256>-<random>
ARCHIVE_FORMAT = "simtune-account/1"
MANIFEST = "manifest.json"
EXPORT_KEEP_HOURS = 24  # a finished archive is kept this long (and until the next export)
MAX_ARCHIVE_BYTES = 4 * 1024**3  # what an import accepts, and what an export may grow to
MAX_MEMBERS = 100_000
MEMBER_PATTERN = r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"  # no absolute path, no backslash

JobKind = Literal["export", "import"]
JobStatus = Literal["queued", "running", "done", "failed", "expired"]
Stage = line(120)  # what the job is doing, in Simtune's words ("the documents of expert 3 of 5")
Reason = prose(1000)
MemberPath = Annotated[str, Meta(pattern=MEMBER_PATTERN, max_length=400)]
ItemKind = Literal[
    "expert", "document", "adapter", "active_adapter", "question", "dataset", "backend", "archive"
]


# ---- the archive -----------------------------------------------------------------------------


class ManifestFile(msgspec.Struct, frozen=True, kw_only=True):
    path: MemberPath
    size: Count
    sha256: Sha256


Listing = Annotated[dict[MemberPath, Sha256], msgspec.Meta(max_length=MAX_MEMBERS)]
Sizes = Annotated[dict[MemberPath, Count], msgspec.Meta(max_length=MAX_MEMBERS)]


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """What `manifest.json` says: no tenant, no person, only what the archive holds —
    `files` maps every member's path to its sha256 (as the API describes it), `sizes` to its
    size in bytes."""

    format: Literal["simtune-account/1"] = ARCHIVE_FORMAT
    created_at: line(40)
    counts: dict[line(40), Count]
    files: Listing
    sizes: Sizes = msgspec.field(default_factory=dict)

    @classmethod
    def of(cls, created_at: str, counts: dict[str, int], entries: list[ManifestFile]) -> Manifest:
        ordered = sorted(entries, key=lambda f: f.path)
        return cls(
            created_at=created_at,
            counts=counts,
            files={f.path: f.sha256 for f in ordered},
            sizes={f.path: f.size for f in ordered},
        )


class ArchiveRefused(ValueError):
    """An archive that cannot be imported, with one sentence that names what is wrong."""


def sha256_of(file: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while block := file.read(1024 * 1024):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def check_archive(path_or_file) -> Manifest:
    """The archive's manifest once every member it lists is there with its size and sha256,
    and nothing else is; otherwise ArchiveRefused naming the first file that fails.
    Blocking (reads and hashes the whole archive): call it from a worker thread."""
    try:
        archive = zipfile.ZipFile(path_or_file)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveRefused("this is not a ZIP archive made by “Export my data”") from exc
    with archive:
        names = archive.namelist()
        if not names or names[0] != MANIFEST:
            raise ArchiveRefused(
                f"the archive does not start with {MANIFEST}: it was not made by Simtune's export"
            )
        if len(names) != len(set(names)):
            raise ArchiveRefused("the archive holds the same file twice")
        try:
            manifest = msgspec.json.decode(archive.read(MANIFEST), type=Manifest)
        except (msgspec.DecodeError, msgspec.ValidationError, zipfile.BadZipFile, OSError) as exc:
            raise ArchiveRefused(f"{MANIFEST} cannot be read: {exc}"[:300]) from exc
        for name in names[1:]:
            if name not in manifest.files:
                raise ArchiveRefused(f"{name} is in the archive but not in its manifest")
        for path, expected in manifest.files.items():
            if path not in archive.NameToInfo:
                raise ArchiveRefused(f"{path} is listed in the manifest but missing")
            try:
                with archive.open(path) as member:
                    sha, size = sha256_of(member)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise ArchiveRefused(f"{path} is damaged and cannot be read") from exc
            if sha != expected or manifest.sizes.get(path, size) != size:
                raise ArchiveRefused(
                    f"{path} does not match its sha256 in the manifest: the archive is damaged"
                )
        return manifest


def safe_member(path: str) -> bool:
    return bool(re.fullmatch(MEMBER_PATTERN, path)) and ".." not in path.split("/")


# ---- events ----------------------------------------------------------------------------------


class ExportRequested(Event, frozen=True, kw_only=True, tag="accounts.ExportRequested"):
    job_id: Token
    user_id: Token


class ExportProgressed(Event, frozen=True, kw_only=True, tag="accounts.ExportProgressed"):
    job_id: Token
    done: Count
    total: Count
    stage: Stage = ""


class ExportFinished(Event, frozen=True, kw_only=True, tag="accounts.ExportFinished"):
    job_id: Token
    archive: ObjectRef
    counts: dict[line(40), Count]
    files: Count


class ExportFailed(Event, frozen=True, kw_only=True, tag="accounts.ExportFailed"):
    personal: ClassVar[tuple[str, ...]] = ("reason",)  # may name what could not be read
    job_id: Token
    reason: Reason


class ExportExpired(Event, frozen=True, kw_only=True, tag="accounts.ExportExpired"):
    """The archive was deleted: old, or a newer export replaced it."""

    job_id: Token


class ImportRequested(Event, frozen=True, kw_only=True, tag="accounts.ImportRequested"):
    job_id: Token
    user_id: Token
    archive: ObjectRef  # the upload, already checked against its manifest
    experts: Count  # how many experts the archive holds


class ImportProgressed(Event, frozen=True, kw_only=True, tag="accounts.ImportProgressed"):
    job_id: Token
    done: Count
    total: Count
    stage: Stage = ""


class ImportItem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing an import restored or skipped: ids only, and Simtune's own sentence."""

    kind: ItemKind
    source_id: line(200) = ""  # its id in the archive
    id: line(200) = ""  # its id here, once restored
    reason: Reason = ""  # why it was skipped


class ImportFinished(Event, frozen=True, kw_only=True, tag="accounts.ImportFinished"):
    personal: ClassVar[tuple[str, ...]] = ("skipped",)  # a refusal may name an archive's file
    job_id: Token
    restored: items(ImportItem, MAX_MEMBERS)
    skipped: items(ImportItem, MAX_MEMBERS)
    kept: dict[line(40), Count] = {}  # in the archive only: traces, runs, benchmark history


class ImportFailed(Event, frozen=True, kw_only=True, tag="accounts.ImportFailed"):
    personal: ClassVar[tuple[str, ...]] = ("reason",)
    job_id: Token
    reason: Reason
    restored: items(ImportItem, MAX_MEMBERS) = []  # what had been restored before it stopped


ExportEvent = (
    ExportRequested
    | ExportProgressed
    | ExportFinished
    | ExportFailed
    | ExportExpired
    | ImportRequested
    | ImportProgressed
    | ImportFinished
    | ImportFailed
)


# ---- commands and queries ----------------------------------------------------------------------


class ExportMyData(Command, frozen=True, kw_only=True, tag="accounts.ExportMyData"):
    """Start an archive of everything `user_id`'s tenant holds (an earlier archive goes)."""

    subject = "cmd.accounts.export"
    reply = "DataJob"

    user_id: Token


class ImportMyData(Command, frozen=True, kw_only=True, tag="accounts.ImportMyData"):
    """Restore the experts of an archive the gateway stored in `account-imports`; the archive
    is checked against its manifest first, and a bad one refused with a sentence."""

    subject = "cmd.accounts.import"
    reply = "DataJob"

    user_id: Token
    archive: ObjectRef


class GetDataJob(Query, frozen=True, kw_only=True, tag="accounts.GetDataJob"):
    """An export or import job of the asking tenant; another person's answers 404."""

    subject = "qry.accounts.data_job"
    reply = "DataJob"

    job_id: Token
    kind: JobKind = "export"


class DataJob(Reply, frozen=True, kw_only=True):
    id: str
    kind: str  # export | import
    status: str  # queued | running | done | failed | expired
    done: int = 0
    total: int = 0
    stage: str = ""
    error: str | None = None
    archive: ObjectRef | None = None  # export: the finished archive
    filename: str = ""
    counts: dict[str, int] = {}
    restored: list[ImportItem] = []
    skipped: list[ImportItem] = []
    kept: dict[str, int] = {}
    created_at: str = ""
    updated_at: str = ""
    seq: int = 0

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.status == "done" else 0.0)
