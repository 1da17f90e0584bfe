"""Sealing secrets (API keys of model backends) so they never sit in plain text on the log.

Values are sealed with Fernet (AES-128-CBC + HMAC-SHA256, authenticated, with a timestamp)
under one key: SIMTUNE_SECRET_KEY when set, else `secret.key` in SIMTUNE_HOME, made on
first use. The key file is created with mode 0600 in one step (written under a temporary
name, then hard-linked into place), so a process starting at the same moment either wins
or reads the winner's complete key; it never sees a half-written one. A key file that
other users could read or change is refused: anyone who can read it can read every secret.

`key_id` is a short fingerprint of the key (not the key), stored beside sealed values so a
value can say which key sealed it. When the key is lost or changed, sealed values cannot be
read and the owner is asked to enter them again; nothing guesses.

This key is also the install's master key: `runtime/keyring.py` wraps each tenant's data
key with a key `derive`d from it, and provider keys are now sealed with those data keys.
Values this box sealed before that (bare Fernet tokens on the log) are still opened here.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_FILE = "secret.key"
KEY_VARIABLE = "SIMTUNE_SECRET_KEY"


class SecretUnreadable(Exception):
    def __init__(
        self,
        message: str = "This secret was sealed with a key Simtune no longer has; enter it again.",
    ):
        super().__init__(message)


class SecretBox:
    def __init__(self, key: bytes):
        self._fernet = Fernet(key)
        self._material = base64.urlsafe_b64decode(key)
        digest = hashlib.sha256(b"simtune-secret-key-id:" + key).hexdigest()
        self._key_id = digest[:12]

    @classmethod
    def open(cls, home: Path, key: str | None) -> SecretBox:
        """The box for `key` (SIMTUNE_SECRET_KEY; empty counts as unset), else for the key
        file under `home`, created on first use."""
        if key and key.strip():
            try:
                return cls(key.strip().encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                raise ValueError(
                    f"{KEY_VARIABLE} is not a valid key: it must be 32 bytes in url-safe "
                    'base64, as made by `python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"`.'
                ) from None
        return cls(_key_file(Path(home)))

    @property
    def key_id(self) -> str:
        return self._key_id

    def derive(self, purpose: str) -> bytes:
        """32 bytes derived from this key for `purpose` (HKDF-SHA256): how another scheme
        (the keyring wrapping data keys) builds on the install's key without reusing it."""
        kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
        return kdf.derive(self._material)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def unseal(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretUnreadable() from None

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self._key_id!r})"


def _key_file(home: Path) -> bytes:
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    """Write a new key under a private temporary name and link it into place; if another
    process linked first, theirs is the key."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key() + b"\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def _read(path: Path) -> bytes:
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError(
            f"{path} can be read or changed by other users, so Simtune will not use it; "
            f"run `chmod 600 {path}` and start again."
        )
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise ValueError(
            f"{path} does not hold a valid key. If you have the original key, put it back; "
            f"else move the file away, and Simtune will make a new one (secrets sealed "
            f"with the old key must then be entered again)."
        ) from None
    return key
