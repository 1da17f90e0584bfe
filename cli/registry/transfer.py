"""Moving adapter archives with a progress bar: an export streamed into a file that appears
whole or not at all, an import sent as the bar follows the bytes."""

from __future__ import annotations

from pathlib import Path

import httpx
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cli.client import Client, CliError
from cli.render import console

CHUNK = 256 * 1024
# Archives can be large and the gateway checks an import before it answers.
TRANSFER_TIMEOUT = httpx.Timeout(60.0, read=600.0)


def transfer_bar() -> Progress:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, transient=True)


def download(client: Client, path: str, target: Path) -> int:
    """Stream `path` into `target`, showing the bytes as they come; the bytes written. The
    file appears whole or not at all: it is written beside, then renamed."""
    partial = target.with_name(f"{target.name}.part")
    try:
        with (
            client.stream("GET", path, timeout=TRANSFER_TIMEOUT) as response,
            transfer_bar() as progress,
        ):
            total = int(response.headers.get("content-length") or 0) or None
            task = progress.add_task(f"Exporting {target.name}", total=total)
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    progress.advance(task, len(chunk))
        partial.replace(target)
    except httpx.TransportError as exc:
        raise CliError(f"the download from Simtune at {client.url} failed: {exc}") from exc
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


class Counted:
    """A file whose reads move a progress bar: httpx reads the multipart body from it as it
    sends, so the bar follows the upload. Everything else (seek, tell, fileno, which httpx
    uses to size the body) is the file's own."""

    def __init__(self, file, progress: Progress, task) -> None:
        self._file, self._progress, self._task = file, progress, task

    def read(self, n: int = -1) -> bytes:
        chunk = self._file.read(n)
        self._progress.advance(self._task, len(chunk))
        return chunk

    def __getattr__(self, name: str):
        return getattr(self._file, name)


def upload(client: Client, expert_id: str, archive: Path) -> dict:
    """POST the archive to `/api/lora/import` with a progress bar; the gateway's reply."""
    try:
        with archive.open("rb") as file, transfer_bar() as progress:
            task = progress.add_task(f"Importing {archive.name}", total=archive.stat().st_size)
            part = (archive.name, Counted(file, progress, task), "application/gzip")
            return client.request(
                "POST",
                "/api/lora/import",
                data={"expert_id": expert_id},
                files={"file": part},
                timeout=TRANSFER_TIMEOUT,
            )
    except OSError as exc:
        raise CliError(f"cannot read {archive}: {exc.strerror}") from exc
