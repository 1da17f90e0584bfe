"""A software passkey authenticator for tests that drive WebAuthn without a browser.

It does what a platform authenticator does for `navigator.credentials.create()` and `.get()`
— an ES256 key pair per credential, "none" attestation, authenticator data with the relying
party's hash, flags and a signature counter, an assertion signed over authenticator data
and the client data's hash — and answers in WebAuthn's JSON form (base64url), as the
console's `passkeys.js` sends it. The client data says the origin it is told, which is how a
test plays a page on another site. The server checks all of it with the `webauthn` package.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40  # user present, user verified, attested credential data
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Passkey:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
             -3: numbers.y.to_bytes(32, "big")}
        )  # fmt: skip


def authenticator_data(rp_id: str, flags: int, sign_count: int) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)


def answer(passkey: Passkey, response: dict) -> dict:
    """A credential as `navigator.credentials` gives it, in WebAuthn's JSON form."""
    return {
        "id": b64url(passkey.credential_id),
        "rawId": b64url(passkey.credential_id),
        "type": "public-key",
        "response": response,
        "clientExtensionResults": {},
    }


def client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


class Authenticator:
    """Holds the passkeys it made, as a phone or a laptop would."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.passkeys: list[Passkey] = []

    def create(self, options: dict, *, origin: str | None = None) -> dict:
        """Answer registration options (`PublicKeyCredentialCreationOptionsJSON`)."""
        rp_id = options["rp"]["id"]
        passkey = Passkey(
            credential_id=secrets.token_bytes(16),
            key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp_id,
            user_handle=unb64url(options["user"]["id"]),
        )
        attested = (
            AAGUID + struct.pack(">H", len(passkey.credential_id)) + passkey.credential_id
            + passkey.cose_public_key()
        )  # fmt: skip
        auth_data = authenticator_data(rp_id, UP | UV | AT, passkey.sign_count) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        data = client_data("webauthn.create", options["challenge"], origin or self.origin)
        self.passkeys.append(passkey)
        return answer(
            passkey,
            {
                "clientDataJSON": b64url(data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
        )

    def get(self, options: dict, *, origin: str | None = None, passkey: Passkey | None = None,
            sign_count: int | None = None) -> dict:  # fmt: skip
        """Answer sign-in options with a discoverable passkey for their relying party (the
        newest, or `passkey`); `sign_count` sets the counter, as a cloned copy's would be."""
        rp_id = options["rpId"]
        passkey = passkey or [p for p in self.passkeys if p.rp_id == rp_id][-1]
        passkey.sign_count = passkey.sign_count + 1 if sign_count is None else sign_count
        auth_data = authenticator_data(rp_id, UP | UV, passkey.sign_count)
        data = client_data("webauthn.get", options["challenge"], origin or self.origin)
        signature = passkey.key.sign(
            auth_data + hashlib.sha256(data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return answer(
            passkey,
            {
                "clientDataJSON": b64url(data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(passkey.user_handle),
            },
        )
