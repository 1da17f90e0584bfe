"""The accounts context's names and values: roles, scopes, bounded text types, limits."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from contracts.rules import line

CONTEXT = "accounts"
STREAM = "ACCOUNTS"
AGGREGATE = "user"

KEY_PREFIX = "sk-sim-"  # every API key starts so; the rest is 43 url-safe characters
OWNER_TENANT = "local"  # the first owner's tenant: an install's data from before accounts
SESSION_COOKIE = "simtune_session"
SESSION_DAYS = 30
MAGIC_LINK_MINUTES = 15
PASSKEY_CHALLENGE_MINUTES = 5  # a passkey ceremony's challenge works once, this long
SETUP_LINK_FILE = "setup-link.txt"  # under SIMTUNE_HOME while no one has an account

Role = Literal["owner", "member"]
Scope = Literal["read", "write", "admin"]
SignInMethod = Literal["setup", "email", "passkey", "github", "cli"]
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$"
Email = Annotated[str, Meta(pattern=EMAIL_PATTERN, max_length=254, description="An email address.")]
KeyName = line(80, min_length=1)
Credential = line(200, min_length=1)  # a session token or an API key, as presented
Actor = line(200)
ExpiresInDays = Annotated[int, Meta(ge=1, le=3650)]
ALL_SCOPES: list[Scope] = ["read", "write", "admin"]
# A WebAuthn credential id or public key, base64url without padding (ids are at most 1023
# bytes; a COSE public key, RSA's included, well under 1.5 KB).
B64URL_PATTERN = r"^[A-Za-z0-9_-]+$"
CredentialId = Annotated[str, Meta(pattern=B64URL_PATTERN, min_length=1, max_length=1400)]
PublicKey = Annotated[str, Meta(pattern=B64URL_PATTERN, min_length=1, max_length=2800)]
PasskeyName = line(80, min_length=1)
RP_ID_PATTERN = r"^[a-z0-9.-]{1,253}$"  # a host name, as WebAuthn names the relying party
RpId = Annotated[str, Meta(pattern=RP_ID_PATTERN, description="A relying-party id.")]
Origin = line(300, min_length=1)
UserAgent = line(300)  # the browser or client a session began in, as its list shows it
CeremonyAnswer = line(65_536, min_length=2)  # what navigator.credentials gave, as JSON text
GithubId = Annotated[int, Meta(ge=1, le=2**53 - 1)]
