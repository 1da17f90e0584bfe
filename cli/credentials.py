"""The API key each request of the CLI presents, and where `simtune login` keeps it.

`SIMTUNE_API_KEY` wins, so a script or CI job never depends on a file; else the key stored
for the gateway's URL in `credentials.json`, under `$SIMTUNE_CONFIG_DIR` or
`~/.config/simtune`. One entry per gateway URL, so a laptop can hold a key for its own stack
and one for the team's server. The file holds secrets: the folder is made 0700 and the file
0600, and it is written beside and renamed over, so a reader (another `simtune` at the same
moment) sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ENV_KEY = "SIMTUNE_API_KEY"
ENV_DIR = "SIMTUNE_CONFIG_DIR"
FILE_NAME = "credentials.json"


class CredentialsError(Exception):
    """The credentials file cannot be read or written: one line for the person."""


def config_dir() -> Path:
    configured = os.environ.get(ENV_DIR)
    return Path(configured).expanduser() if configured else Path.home() / ".config" / "simtune"


def credentials_path() -> Path:
    return config_dir() / FILE_NAME


def gateway_id(url: str) -> str:
    """How an entry is keyed: the URL without a trailing slash, so `…:8000/` is `…:8000`."""
    return url.strip().rstrip("/")


def key_for(url: str) -> str | None:
    """The key to present to the gateway at `url`: `SIMTUNE_API_KEY`, else the stored one."""
    from_env = os.environ.get(ENV_KEY, "").strip()
    if from_env:
        return from_env
    entry = stored(url)
    return entry["api_key"] if entry else None


def stored(url: str) -> dict | None:
    """The entry `simtune login` stored for `url` ({api_key, email, stored_at}), if any."""
    entry = _read().get(gateway_id(url))
    return entry if isinstance(entry, dict) and isinstance(entry.get("api_key"), str) else None


def store(url: str, api_key: str, email: str) -> Path:
    """Keep `api_key` for `url` (replacing the one there was); the file written."""
    gateways = _read()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    gateways[gateway_id(url)] = {"api_key": api_key, "email": email, "stored_at": stamp}
    return _write(gateways)


def forget(url: str) -> bool:
    """Remove the key stored for `url`; False when there was none."""
    gateways = _read()
    if gateways.pop(gateway_id(url), None) is None:
        return False
    _write(gateways)
    return True


def _read() -> dict:
    path = credentials_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CredentialsError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        gateways = json.loads(text)["gateways"]
        if not isinstance(gateways, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        raise CredentialsError(
            f"{path} is not a credentials file Simtune wrote; move it away and run"
            " `simtune login` again"
        ) from exc
    return gateways


def _write(gateways: dict) -> Path:
    """The whole file, written to a temporary file (0600, as mkstemp makes it) in the same
    folder, flushed to disk, then renamed over the old one."""
    path = credentials_path()
    folder = path.parent
    try:
        if not folder.is_dir():
            folder.mkdir(mode=0o700, parents=True)
            folder.chmod(0o700)  # whatever the umask made of it
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{FILE_NAME}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"gateways": gateways}, out, indent=2, sort_keys=True)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
    except OSError as exc:
        raise CredentialsError(f"cannot write {path}: {exc.strerror}") from exc
    return path
