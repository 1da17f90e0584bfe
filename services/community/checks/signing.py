"""Ed25519 signatures over published templates, so an importer can tell that what it got is
what the publisher published.

A registry (or anything between it and the importer) could otherwise change a template's
text — slip an instruction into it — and serve it under its author's name. The publisher
signs `contracts.community.signed_message(registry_id, version, sha256)`: the template's id
and version are inside the signature, so a signature cannot be moved to another template or
replayed for another version, and the content enters by its sha256 (`content_sha256`), so a
changed character changes the digest and breaks the signature. The message starts with a
fixed context string, so a signature made here means nothing anywhere else.

Keys travel as text: the public key as base64 of its 32 raw bytes (shown with every listing),
the private key as its 32 raw bytes, which the service seals before storing. `verify` is
asked about data from other machines, so anything malformed is simply not a valid signature:
it answers False and never raises.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from contracts.community.values import signed_message

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY_BYTES = 32
_SIGNATURE_BYTES = 64


def content_sha256(content: str) -> str:
    """The digest a template is addressed and signed by: sha256 of its UTF-8 text, exactly as
    stored (no normalising of line ends or spaces: what is signed is what is served)."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def new_keypair() -> tuple[bytes, str]:
    """(private key as 32 raw bytes, public key as base64 text)."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return raw, public_of(raw)


def public_of(private_raw: bytes) -> str:
    """The base64 public key of a stored private key (to show it again without keeping it)."""
    public = Ed25519PrivateKey.from_private_bytes(private_raw).public_key()
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def sign(private_raw: bytes, registry_id: str, version: str, sha256_hex: str) -> str:
    """The base64 signature of one version of one published template."""
    message = _message(registry_id, version, sha256_hex)
    if message is None:
        raise ValueError("a signature needs an id and a version on one line each and a sha256")
    signature = Ed25519PrivateKey.from_private_bytes(private_raw).sign(message)
    return base64.b64encode(signature).decode("ascii")


def verify(
    public_b64: str, registry_id: str, version: str, sha256_hex: str, signature_b64: str
) -> bool:
    """Whether `signature_b64` is the holder of `public_b64`'s signature of exactly this id,
    version and content digest. False for anything malformed."""
    message = _message(registry_id, version, sha256_hex)
    public_raw = _decode(public_b64, _KEY_BYTES)
    signature = _decode(signature_b64, _SIGNATURE_BYTES)
    if message is None or public_raw is None or signature is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _message(registry_id: object, version: object, sha256_hex: object) -> bytes | None:
    # A line break inside the id or the version would let two different (id, version) pairs
    # produce the same message; the contracts never allow one, and neither does this.
    if not all(isinstance(part, str) for part in (registry_id, version, sha256_hex)):
        return None
    if not registry_id or not version or "\n" in registry_id or "\n" in version:
        return None
    if not _SHA256.fullmatch(sha256_hex):
        return None
    return signed_message(registry_id, version, sha256_hex)


def _decode(text: object, size: int) -> bytes | None:
    """Standard or url-safe base64 (the contracts accept both) of exactly `size` bytes."""
    if not isinstance(text, str) or not text.isascii():
        return None
    padded = text + "=" * (-len(text) % 4)
    for alphabet in (b"+/", b"-_"):
        try:
            raw = base64.b64decode(padded, altchars=alphabet, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == size:
            return raw
    return None
