"""The commands and queries the accounts service serves."""

from __future__ import annotations

import msgspec

from contracts.accounts.values import (
    Actor,
    CeremonyAnswer,
    Credential,
    CredentialId,
    Email,
    ExpiresInDays,
    GithubId,
    KeyName,
    Origin,
    PasskeyName,
    Role,
    RpId,
    Scope,
    SignInMethod,
    UserAgent,
)
from contracts.base import Command, Query
from contracts.rules import Token, items, line

# ---- commands ------------------------------------------------------------------------------


class UserCommand(Command, frozen=True, kw_only=True, tag=False):
    """A command about one user: the user aggregate it changes, or the person it acts for."""

    user_id: Token


class SignIn(Command, frozen=True, kw_only=True, tag=False):
    """A command that signs a person in, whichever way they proved who they are: each is
    answered with a new session, and each names the `user_agent` it came from (its last
    field), which the person's list of sessions shows."""

    reply = "SignedIn"


class CreateUser(Command, frozen=True, kw_only=True, tag="accounts.CreateUser"):
    """Add a person. With `api_key`, also issue them a key (every scope their role allows),
    shown once in the reply."""

    subject = "cmd.accounts.create_user"
    reply = "UserCreatedReply"

    email: Email
    role: Role = "member"
    api_key: bool = False
    created_by: Actor = ""


class RemoveUser(UserCommand, frozen=True, kw_only=True, tag="accounts.RemoveUser"):
    """Remove a person: their keys and sessions stop working at once. The last owner stays."""

    subject = "cmd.accounts.remove_user"

    removed_by: Actor = ""


class IssueApiKey(UserCommand, frozen=True, kw_only=True, tag="accounts.IssueApiKey"):
    subject = "cmd.accounts.issue_key"
    reply = "IssuedKey"

    name: KeyName
    scopes: items(Scope, 3) = msgspec.field(default_factory=lambda: ["read", "write"])
    expires_in_days: ExpiresInDays | None = None


class RevokeApiKey(UserCommand, frozen=True, kw_only=True, tag="accounts.RevokeApiKey"):
    """Revoke one of `user_id`'s keys; another user's key id answers 404."""

    subject = "cmd.accounts.revoke_key"

    key_id: Token
    revoked_by: Actor = ""


class ClaimSetup(SignIn, frozen=True, kw_only=True, tag="accounts.ClaimSetup"):
    """Create the first owner with the one-time setup token the service printed at start
    (refused once any user exists), and sign them in."""

    subject = "cmd.accounts.claim_setup"

    setup_token: Credential
    email: Email
    user_agent: UserAgent = ""


class SendMagicLink(Command, frozen=True, kw_only=True, tag="accounts.SendMagicLink"):
    """Mail a single-use sign-in link (valid MAGIC_LINK_MINUTES) to a known address, or write
    it to the service's log when no SMTP server is configured. The reply is the same whether
    or not the address is known, so it tells no one who has an account."""

    subject = "cmd.accounts.send_magic_link"
    reply = "LinkSent"

    email: Email
    link_base: line(500, min_length=1)  # "https://host/signin/email?token=" — the token follows


class RedeemMagicLink(SignIn, frozen=True, kw_only=True, tag="accounts.RedeemMagicLink"):
    subject = "cmd.accounts.redeem_magic_link"

    token: Credential
    user_agent: UserAgent = ""


class StartSession(SignIn, frozen=True, kw_only=True, tag="accounts.StartSession"):
    """A session for a user already proven (a passkey, GitHub): the gateway's sign-in flows."""

    subject = "cmd.accounts.start_session"

    user_id: Token
    method: SignInMethod
    user_agent: UserAgent = ""


class EndSessions(Command, frozen=True, kw_only=True, tag="accounts.EndSessions"):
    """Sign out: the session `token` alone, or with `everywhere` every session of its user."""

    subject = "cmd.accounts.end_sessions"

    token: Credential
    everywhere: bool = False


class BeginPasskeyRegistration(
    UserCommand, frozen=True, kw_only=True, tag="accounts.BeginPasskeyRegistration"
):
    """Options for `navigator.credentials.create()` (a discoverable credential, user
    verification preferred) and the id of their single-use challenge. The gateway names the
    relying party and origin from its settings (SIMTUNE_RP_ID, SIMTUNE_RP_ORIGIN); the
    challenge keeps them, so the answer is checked against what was asked."""

    subject = "cmd.accounts.passkey_register_begin"
    reply = "PasskeyCeremony"

    rp_id: RpId
    origin: Origin


class FinishPasskeyRegistration(
    UserCommand, frozen=True, kw_only=True, tag="accounts.FinishPasskeyRegistration"
):
    """Verify what the authenticator made (the challenge, the origin, the relying party) and
    record the passkey; the challenge is used up whatever the outcome."""

    subject = "cmd.accounts.passkey_register_finish"
    reply = "PasskeyView"

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


class FinishPasskeySignIn(SignIn, frozen=True, kw_only=True, tag="accounts.FinishPasskeySignIn"):
    """Verify the assertion against the stored passkey and sign its user in. A signature
    counter that does not move forward (a cloned authenticator, a replay) is refused."""

    subject = "cmd.accounts.passkey_signin_finish"

    challenge_id: Token
    credential: CeremonyAnswer
    user_agent: UserAgent = ""


class RemovePasskey(UserCommand, frozen=True, kw_only=True, tag="accounts.RemovePasskey"):
    """Remove one of `user_id`'s passkeys: it signs no one in from then on."""

    subject = "cmd.accounts.remove_passkey"

    credential_id: CredentialId
    removed_by: Actor = ""


class SignInWithGithub(SignIn, frozen=True, kw_only=True, tag="accounts.SignInWithGithub"):
    """Sign in the person whose account has `email`, GitHub's verified primary address for
    the GitHub user `github_id` (the gateway has checked both with GitHub). An address with
    no account is not found: GitHub never creates accounts."""

    subject = "cmd.accounts.signin_github"

    github_id: GithubId
    email: Email
    user_agent: UserAgent = ""


class ForgetUser(UserCommand, frozen=True, kw_only=True, tag="accounts.ForgetUser"):
    """Delete a person's data ("delete my data"): their data key is destroyed, their
    account, keys, sessions and passkeys end, and every service erases what it keeps of
    them. `by_user` is the person asking (the gateway sets it from who is signed in): the
    person themselves, or an owner for someone else. `confirm` must be the address of the
    account being deleted, typed by hand: nothing is deleted when it does not match. The
    install's last owner cannot be deleted. Asking again answers the same report."""

    subject = "cmd.accounts.forget_user"
    reply = "ErasureReport"

    confirm: Email
    by_user: Token
    by: Actor = ""


# ---- queries -------------------------------------------------------------------------------


class UserQuery(Query, frozen=True, kw_only=True, tag=False):
    """A query about one user: their keys, sessions, passkeys or erasure."""

    user_id: Token


class Whois(Query, frozen=True, kw_only=True, tag="accounts.Whois"):
    """Who a session token or an API key belongs to; unknown, expired, revoked or removed
    answers not_found. Records the key's last use."""

    subject = "qry.accounts.whois"
    reply = "Principal"

    credential: Credential


class ListUsers(Query, frozen=True, kw_only=True, tag="accounts.ListUsers"):
    subject = "qry.accounts.users"
    reply = "UserList"


class ListApiKeys(UserQuery, frozen=True, kw_only=True, tag="accounts.ListApiKeys"):
    subject = "qry.accounts.keys"
    reply = "ApiKeyList"


class ListSessions(UserQuery, frozen=True, kw_only=True, tag="accounts.ListSessions"):
    subject = "qry.accounts.sessions"
    reply = "SessionList"

    current: Credential | None = None  # marks the session asking


class GetSetup(Query, frozen=True, kw_only=True, tag="accounts.GetSetup"):
    """Whether the install still waits for its first owner."""

    subject = "qry.accounts.setup"
    reply = "SetupState"


class ListPasskeys(UserQuery, frozen=True, kw_only=True, tag="accounts.ListPasskeys"):
    subject = "qry.accounts.passkeys"
    reply = "PasskeyList"


class GetErasure(UserQuery, frozen=True, kw_only=True, tag="accounts.GetErasure"):
    """What was removed of a forgotten person so far, service by service, and what is still
    pending: for the person who asked (`by_user` is them, or an owner)."""

    subject = "qry.accounts.erasure"
    reply = "ErasureReport"

    by_user: Token


class ListErasures(Query, frozen=True, kw_only=True, tag="accounts.ListErasures"):
    """Every deletion of a person's data, newest first (the owner's audit: who, when,
    counts; never content)."""

    subject = "qry.accounts.erasures"
    reply = "ErasureList"

    by_user: Token  # an owner
