"""Passkeys (WebAuthn), with the `webauthn` package: registering one for a signed-in person,
signing in with one, listing and removing them.

Each ceremony has two steps. *Begin* makes a random challenge, keeps it with the relying
party and origin the gateway named (`passkey_store`, single use, PASSKEY_CHALLENGE_MINUTES)
and answers the options for the browser. *Finish* takes the challenge (gone from then on,
whatever the outcome) and lets `webauthn` verify the browser's answer against it: the
challenge signed, the origin, the relying party's hash, the user's presence, the signature.

Passkeys are discoverable (resident key required): signing in names no one, and the
authenticator offers the passkeys it holds for this site. The user handle is the user id's
16 bytes, never the address. A registered passkey is history (`PasskeyRegistered` on the
user's log, the read model `accounts.passkeys` keeps its public key); its counter is not
(`passkey_uses`). The counter is checked here rather than by `webauthn` (which is given 0):
one conditional update decides it, so two sign-ins racing with the same count cannot both
pass, and the refusal can say what it means — a copy of the authenticator.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json,
    parse_authentication_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from contracts.accounts import (
    PASSKEY_CHALLENGE_MINUTES,
    BeginPasskeyRegistration,
    BeginPasskeySignIn,
    FinishPasskeyRegistration,
    FinishPasskeySignIn,
    ListPasskeys,
    PasskeyCeremony,
    PasskeyList,
    PasskeyRegistered,
    PasskeyView,
    RemovePasskey,
    SignedIn,
)
from contracts.base import Accepted, DomainError, ErrorCode
from runtime.logs import get_logger
from services.accounts import domain, views
from services.accounts.commands import AccountsCommands
from services.accounts.passkey_store import PasskeyStore

log = get_logger(__name__)

RP_NAME = "Simtune"
TIMEOUT_MS = PASSKEY_CHALLENGE_MINUTES * 60_000
REGISTER, SIGN_IN = "register", "signin"
TRANSPORTS = 8
CHALLENGE_GONE = "this passkey request has expired or was already used: start again"
NOT_VERIFIED = "the passkey's answer could not be verified: {reason}"
UNKNOWN = "this passkey is not registered here (or was removed): sign in another way"
CLONED = (
    "this passkey's signature counter went backwards, as a copied authenticator's does:"
    " sign-in refused. If you did not copy it, remove the passkey and register it again"
)
BUSY = "too many passkey sign-ins are under way at once; try again in a few minutes"
SELECTION = AuthenticatorSelectionCriteria(
    resident_key=ResidentKeyRequirement.REQUIRED,
    user_verification=UserVerificationRequirement.PREFERRED,
)


def user_handle(user_id: str) -> bytes:
    """What the authenticator keeps as the passkey's user: the id's bytes (a uuid's hex)."""
    return bytes.fromhex(user_id)


class PasskeyHandlers:
    def __init__(self, commands: AccountsCommands, store: PasskeyStore) -> None:
        self.commands, self.store = commands, store
        self.host = commands.host

    # ---- registering --------------------------------------------------------------------------

    async def begin_registration(self, cmd: BeginPasskeyRegistration) -> PasskeyCeremony:
        user = await self.commands.user(cmd.user_id)
        async with self.host.engine.connect() as conn:
            existing = await views.passkeys(conn, cmd.user_id)
        challenge = secrets.token_bytes(32)
        options = generate_registration_options(
            rp_id=cmd.rp_id,
            rp_name=RP_NAME,
            user_name=user.email,
            user_id=user_handle(user.user_id),
            user_display_name=user.email,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            authenticator_selection=SELECTION,
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.id)) for p in existing
            ],
        )
        return await self._ceremony(REGISTER, user.user_id, challenge, cmd.rp_id, cmd.origin,
                                    plain(options_to_json(options)))  # fmt: skip

    async def finish_registration(self, cmd: FinishPasskeyRegistration) -> PasskeyView:
        challenge = await self.store.take_challenge(cmd.challenge_id, REGISTER)
        if challenge is None or challenge.user_id != cmd.user_id:
            raise DomainError(ErrorCode.NOT_FOUND, CHALLENGE_GONE)
        try:
            verified = verify_registration_response(
                credential=cmd.credential,
                expected_challenge=base64url_to_bytes(challenge.challenge),
                expected_rp_id=challenge.rp_id,
                expected_origin=challenge.origin,
            )
        except (WebAuthnException, ValueError) as exc:
            log.info("accounts.passkey_refused", step="register", reason=str(exc))
            raise DomainError(ErrorCode.INVALID, NOT_VERIFIED.format(reason=exc)) from exc
        credential_id = bytes_to_base64url(verified.credential_id)
        async with self.host.engine.connect() as conn:
            known = await views.passkey_known(conn, credential_id)
        passkey = PasskeyRegistered(
            user_id=cmd.user_id,
            credential_id=credential_id,
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            name=cmd.name,
            transports=transports_of(cmd.credential),
        )
        tenant, _ = await self.commands.locate(cmd.user_id)
        seq = await self.commands.decide(
            tenant, cmd.user_id,
            lambda s: domain.decide_register_passkey(
                s, user_id=cmd.user_id, passkey=passkey, registered_elsewhere=known
            ),
        )  # fmt: skip
        log.info("accounts.passkey_registered", user_id=cmd.user_id)
        return PasskeyView(
            id=credential_id, name=passkey.name, transports=list(passkey.transports),
            created_at=datetime.now(UTC).isoformat(), seq=seq,
        )  # fmt: skip

    # ---- signing in ---------------------------------------------------------------------------

    async def begin_sign_in(self, cmd: BeginPasskeySignIn) -> PasskeyCeremony:
        challenge = secrets.token_bytes(32)
        options = generate_authentication_options(
            rp_id=cmd.rp_id,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        return await self._ceremony(SIGN_IN, None, challenge, cmd.rp_id, cmd.origin,
                                    plain(options_to_json(options)))  # fmt: skip

    async def finish_sign_in(self, cmd: FinishPasskeySignIn) -> SignedIn:
        challenge = await self.store.take_challenge(cmd.challenge_id, SIGN_IN)
        if challenge is None:
            raise DomainError(ErrorCode.NOT_FOUND, CHALLENGE_GONE)
        try:
            answer = parse_authentication_credential_json(cmd.credential)
        except (WebAuthnException, ValueError) as exc:
            raise DomainError(ErrorCode.INVALID, NOT_VERIFIED.format(reason=exc)) from exc
        credential_id = bytes_to_base64url(answer.raw_id)
        async with self.host.engine.connect() as conn:
            stored = await views.passkey_holder(conn, credential_id)
        if stored is None:
            raise DomainError(ErrorCode.NOT_FOUND, UNKNOWN)
        handle = answer.response.user_handle
        if handle is not None and handle != user_handle(stored.user_id):
            raise DomainError(
                ErrorCode.INVALID, NOT_VERIFIED.format(reason="it names another person")
            )
        try:
            verified = verify_authentication_response(
                credential=answer,
                expected_challenge=base64url_to_bytes(challenge.challenge),
                expected_rp_id=challenge.rp_id,
                expected_origin=challenge.origin,
                credential_public_key=base64url_to_bytes(stored.public_key),
                credential_current_sign_count=0,  # the counter is decided below, atomically
            )
        except (WebAuthnException, ValueError) as exc:
            log.info("accounts.passkey_refused", step="signin", reason=str(exc))
            raise DomainError(ErrorCode.INVALID, NOT_VERIFIED.format(reason=exc)) from exc
        count = verified.new_sign_count
        went_back = (count > 0 or stored.sign_count > 0) and count <= stored.sign_count
        if went_back or not await self.store.count_use(credential_id, count):
            log.warning("accounts.passkey_cloned", user_id=stored.user_id, sign_count=count)
            raise DomainError(ErrorCode.INVALID, CLONED)
        try:
            return await self.commands.signed_in(stored.user_id, "passkey", cmd.user_agent)
        except DomainError as exc:  # removed between the lookup and now
            raise DomainError(ErrorCode.NOT_FOUND, UNKNOWN) from exc

    # ---- the list -----------------------------------------------------------------------------

    async def passkeys(self, q: ListPasskeys) -> PasskeyList:
        return PasskeyList(passkeys=await self.host.read(q, lambda c: views.passkeys(c, q.user_id)))

    async def remove(self, cmd: RemovePasskey) -> Accepted:
        tenant, _ = await self.commands.locate(cmd.user_id)
        seq = await self.commands.decide(
            tenant, cmd.user_id,
            lambda s: domain.decide_remove_passkey(
                s, user_id=cmd.user_id, credential_id=cmd.credential_id, by=cmd.removed_by
            ),
        )  # fmt: skip
        return Accepted(id=cmd.credential_id, seq=seq)

    async def _ceremony(self, purpose: str, user_id: str | None, challenge: bytes, rp_id: str,
                        origin: str, options: dict) -> PasskeyCeremony:  # fmt: skip
        opened = await self.store.open_challenge(
            purpose, user_id, bytes_to_base64url(challenge), rp_id, origin
        )
        if opened is None:
            raise DomainError(ErrorCode.RATE_LIMITED, BUSY)
        challenge_id, expires = opened
        return PasskeyCeremony(
            challenge_id=challenge_id, options=options,
            expires_at=expires.isoformat(timespec="seconds"),
        )  # fmt: skip


def plain(options_json: str) -> dict:
    """The options as plain JSON values (no enums), what the reply carries to the browser."""
    return json.loads(options_json)


def transports_of(answer: str) -> list[str]:
    """How the authenticator says it is reached (`response.transports`), as far as it fits."""
    try:
        found = json.loads(answer).get("response", {}).get("transports")
    except (ValueError, AttributeError):
        return []
    if not isinstance(found, list):
        return []
    return [t for t in found if isinstance(t, str) and 0 < len(t) <= 20][:TRANSPORTS]
