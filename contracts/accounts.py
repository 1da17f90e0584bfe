"""The accounts context: who is signed in. People (users), their roles, their API keys, and
the ways they sign in without a password (a one-time setup link for the first owner, email
magic links; passkeys and GitHub build on the same session).

One aggregate, the *user* (`user`, keyed by the user id, a uuid5 of the lower-cased email,
so one address is one user): `UserCreated`, `ApiKeyIssued`, `ApiKeyRevoked`,
`UserRemoved`, `PasskeyRegistered`, `PasskeyRemoved`. A user's `tenant` is the owner of everything they make: every command and
query the gateway sends on their behalf carries it, so another person's ids answer 404.
The first owner's tenant is "local", the tenant of an install from before accounts, so
nothing made before accounts is lost.

Secrets never travel on the log: an API key appears once, in the reply that issued it; the
log keeps its sha256 and its first characters (`prefix`). Sessions, magic links and the
setup token are credentials, not history: the accounts service keeps them (hashed) in its
own table, outside the projections, each with an expiry.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from contracts.base import Command, Event, Query, Reply
from contracts.rules import Count, Sha256, Token, items, line

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
RpId = Annotated[str, Meta(pattern=r"^[a-z0-9.-]{1,253}$", description="A relying-party id.")]
Origin = line(300, min_length=1)
CeremonyAnswer = line(65_536, min_length=2)  # what navigator.credentials gave, as JSON text
GithubId = Annotated[int, Meta(ge=1, le=2**53 - 1)]


# ---- events --------------------------------------------------------------------------------


class UserCreated(Event, frozen=True, kw_only=True, tag="accounts.UserCreated"):
    user_id: Token
    email: Email
    role: Role
    tenant: Token
    created_by: Actor = ""


class ApiKeyIssued(Event, frozen=True, kw_only=True, tag="accounts.ApiKeyIssued"):
    user_id: Token
    key_id: Token
    name: KeyName
    prefix: line(20, min_length=1)  # "sk-sim-AbCd": what lists show to tell keys apart
    key_sha256: Sha256
    scopes: items(Literal["read", "write", "admin"], 3)
    expires_at: line(40) | None = None  # ISO 8601, UTC; None: never


class ApiKeyRevoked(Event, frozen=True, kw_only=True, tag="accounts.ApiKeyRevoked"):
    user_id: Token
    key_id: Token
    revoked_by: Actor = ""


class UserRemoved(Event, frozen=True, kw_only=True, tag="accounts.UserRemoved"):
    user_id: Token
    removed_by: Actor = ""


class PasskeyRegistered(Event, frozen=True, kw_only=True, tag="accounts.PasskeyRegistered"):
    """A passkey the user's authenticator made and the accounts service verified: its id and
    COSE public key (base64url), the signature counter it started at, and how it is reached."""

    user_id: Token
    credential_id: CredentialId
    public_key: PublicKey
    sign_count: Count
    name: PasskeyName
    transports: items(line(20), 8) = msgspec.field(default_factory=list)


class PasskeyRemoved(Event, frozen=True, kw_only=True, tag="accounts.PasskeyRemoved"):
    user_id: Token
    credential_id: CredentialId
    removed_by: Actor = ""


AccountsEvent = (
    UserCreated | ApiKeyIssued | ApiKeyRevoked | UserRemoved | PasskeyRegistered | PasskeyRemoved
)


# ---- commands ------------------------------------------------------------------------------


class CreateUser(Command, frozen=True, kw_only=True, tag="accounts.CreateUser"):
    """Add a person. With `api_key`, also issue them a key (every scope their role allows),
    shown once in the reply."""

    subject = "cmd.accounts.create_user"
    reply = "UserCreatedReply"

    email: Email
    role: Role = "member"
    api_key: bool = False
    created_by: Actor = ""


class RemoveUser(Command, frozen=True, kw_only=True, tag="accounts.RemoveUser"):
    """Remove a person: their keys and sessions stop working at once. The last owner stays."""

    subject = "cmd.accounts.remove_user"

    user_id: Token
    removed_by: Actor = ""


class IssueApiKey(Command, frozen=True, kw_only=True, tag="accounts.IssueApiKey"):
    subject = "cmd.accounts.issue_key"
    reply = "IssuedKey"

    user_id: Token
    name: KeyName
    scopes: items(Scope, 3) = msgspec.field(default_factory=lambda: ["read", "write"])
    expires_in_days: ExpiresInDays | None = None


class RevokeApiKey(Command, frozen=True, kw_only=True, tag="accounts.RevokeApiKey"):
    """Revoke one of `user_id`'s keys; another user's key id answers 404."""

    subject = "cmd.accounts.revoke_key"

    user_id: Token
    key_id: Token
    revoked_by: Actor = ""


class ClaimSetup(Command, frozen=True, kw_only=True, tag="accounts.ClaimSetup"):
    """Create the first owner with the one-time setup token the service printed at start
    (refused once any user exists), and sign them in."""

    subject = "cmd.accounts.claim_setup"
    reply = "SignedIn"

    setup_token: Credential
    email: Email
    user_agent: line(300) = ""


class SendMagicLink(Command, frozen=True, kw_only=True, tag="accounts.SendMagicLink"):
    """Mail a single-use sign-in link (valid MAGIC_LINK_MINUTES) to a known address, or write
    it to the service's log when no SMTP server is configured. The reply is the same whether
    or not the address is known, so it tells no one who has an account."""

    subject = "cmd.accounts.send_magic_link"
    reply = "LinkSent"

    email: Email
    link_base: line(500, min_length=1)  # "https://host/signin/email?token=" — the token follows


class RedeemMagicLink(Command, frozen=True, kw_only=True, tag="accounts.RedeemMagicLink"):
    subject = "cmd.accounts.redeem_magic_link"
    reply = "SignedIn"

    token: Credential
    user_agent: line(300) = ""


class StartSession(Command, frozen=True, kw_only=True, tag="accounts.StartSession"):
    """A session for a user already proven (a passkey, GitHub): the gateway's sign-in flows."""

    subject = "cmd.accounts.start_session"
    reply = "SignedIn"

    user_id: Token
    method: SignInMethod
    user_agent: line(300) = ""


class EndSessions(Command, frozen=True, kw_only=True, tag="accounts.EndSessions"):
    """Sign out: the session `token` alone, or with `everywhere` every session of its user."""

    subject = "cmd.accounts.end_sessions"

    token: Credential
    everywhere: bool = False


class BeginPasskeyRegistration(
    Command, frozen=True, kw_only=True, tag="accounts.BeginPasskeyRegistration"
):
    """Options for `navigator.credentials.create()` (a discoverable credential, user
    verification preferred) and the id of their single-use challenge. The gateway names the
    relying party and origin from its settings (SIMTUNE_RP_ID, SIMTUNE_RP_ORIGIN); the
    challenge keeps them, so the answer is checked against what was asked."""

    subject = "cmd.accounts.passkey_register_begin"
    reply = "PasskeyCeremony"

    user_id: Token
    rp_id: RpId
    origin: Origin


class FinishPasskeyRegistration(
    Command, frozen=True, kw_only=True, tag="accounts.FinishPasskeyRegistration"
):
    """Verify what the authenticator made (the challenge, the origin, the relying party) and
    record the passkey; the challenge is used up whatever the outcome."""

    subject = "cmd.accounts.passkey_register_finish"
    reply = "PasskeyView"

    user_id: Token
    challenge_id: Token
    credential: CeremonyAnswer
    name: PasskeyName = "passkey"


class BeginPasskeySignIn(Command, frozen=True, kw_only=True, tag="accounts.BeginPasskeySignIn"):
    """Options for `navigator.credentials.get()` naming no one: the authenticator offers the
    discoverable passkeys it holds for this relying party."""

    subject = "cmd.accounts.passkey_signin_begin"
    reply = "PasskeyCeremony"

    rp_id: RpId
    origin: Origin


class FinishPasskeySignIn(Command, frozen=True, kw_only=True, tag="accounts.FinishPasskeySignIn"):
    """Verify the assertion against the stored passkey and sign its user in. A signature
    counter that does not move forward (a cloned authenticator, a replay) is refused."""

    subject = "cmd.accounts.passkey_signin_finish"
    reply = "SignedIn"

    challenge_id: Token
    credential: CeremonyAnswer
    user_agent: line(300) = ""


class RemovePasskey(Command, frozen=True, kw_only=True, tag="accounts.RemovePasskey"):
    """Remove one of `user_id`'s passkeys: it signs no one in from then on."""

    subject = "cmd.accounts.remove_passkey"

    user_id: Token
    credential_id: CredentialId
    removed_by: Actor = ""


class SignInWithGithub(Command, frozen=True, kw_only=True, tag="accounts.SignInWithGithub"):
    """Sign in the person whose account has `email`, GitHub's verified primary address for
    the GitHub user `github_id` (the gateway has checked both with GitHub). An address with
    no account is not found: GitHub never creates accounts."""

    subject = "cmd.accounts.signin_github"
    reply = "SignedIn"

    github_id: GithubId
    email: Email
    user_agent: line(300) = ""


# ---- queries -------------------------------------------------------------------------------


class Whois(Query, frozen=True, kw_only=True, tag="accounts.Whois"):
    """Who a session token or an API key belongs to; unknown, expired, revoked or removed
    answers not_found. Records the key's last use."""

    subject = "qry.accounts.whois"
    reply = "Principal"

    credential: Credential


class ListUsers(Query, frozen=True, kw_only=True, tag="accounts.ListUsers"):
    subject = "qry.accounts.users"
    reply = "UserList"


class ListApiKeys(Query, frozen=True, kw_only=True, tag="accounts.ListApiKeys"):
    subject = "qry.accounts.keys"
    reply = "ApiKeyList"

    user_id: Token


class ListSessions(Query, frozen=True, kw_only=True, tag="accounts.ListSessions"):
    subject = "qry.accounts.sessions"
    reply = "SessionList"

    user_id: Token
    current: Credential | None = None  # marks the session asking


class GetSetup(Query, frozen=True, kw_only=True, tag="accounts.GetSetup"):
    """Whether the install still waits for its first owner."""

    subject = "qry.accounts.setup"
    reply = "SetupState"


class ListPasskeys(Query, frozen=True, kw_only=True, tag="accounts.ListPasskeys"):
    subject = "qry.accounts.passkeys"
    reply = "PasskeyList"

    user_id: Token


# ---- replies -------------------------------------------------------------------------------


class UserView(Reply, frozen=True, kw_only=True):
    user_id: str
    email: str
    role: str
    tenant: str
    created_at: str


class UserCreatedReply(Reply, frozen=True, kw_only=True):
    user_id: str
    email: str
    role: str
    tenant: str
    api_key: str | None = None
    seq: int = 0


class UserList(Reply, frozen=True, kw_only=True):
    users: list[UserView]


class IssuedKey(Reply, frozen=True, kw_only=True):
    """The key itself appears here once and nowhere else."""

    id: str
    name: str
    prefix: str
    key: str
    scopes: list[str]
    expires_at: str | None
    seq: int = 0


class ApiKeyView(Reply, frozen=True, kw_only=True):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked: bool = False


class ApiKeyList(Reply, frozen=True, kw_only=True):
    keys: list[ApiKeyView]


class SessionView(Reply, frozen=True, kw_only=True):
    id: str  # a short id for the list, never the token
    method: str
    user_agent: str
    created_at: str
    last_seen_at: str
    expires_at: str
    current: bool = False


class SessionList(Reply, frozen=True, kw_only=True):
    sessions: list[SessionView]


class SignedIn(Reply, frozen=True, kw_only=True):
    """A new session: `token` goes into the HttpOnly cookie and nowhere else."""

    token: str
    user_id: str
    email: str
    role: str
    expires_at: str


class LinkSent(Reply, frozen=True, kw_only=True):
    delivery: Literal["email", "log"]  # "log": no SMTP server is configured


class Principal(Reply, frozen=True, kw_only=True):
    """Who a request acts for."""

    user_id: str
    email: str
    role: str
    tenant: str
    scopes: list[str]
    via: Literal["session", "key"]
    key_id: str | None = None
    actor: str = ""  # what the audit trail names: the email, with the key's name for a key


class SetupState(Reply, frozen=True, kw_only=True):
    needed: bool


class PasskeyCeremony(Reply, frozen=True, kw_only=True):
    """What the browser needs for one passkey ceremony: `options` (WebAuthn's JSON form,
    binary fields base64url) and the challenge's id, which the finishing step sends back."""

    challenge_id: str
    options: dict[str, Any]
    expires_at: str


class PasskeyView(Reply, frozen=True, kw_only=True):
    id: str  # the credential id, base64url
    name: str
    transports: list[str]
    created_at: str
    last_used_at: str | None = None
    seq: int = 0


class PasskeyList(Reply, frozen=True, kw_only=True):
    passkeys: list[PasskeyView]
