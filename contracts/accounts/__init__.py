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

from contracts.accounts.events import *  # noqa: F403
from contracts.accounts.exports import *  # noqa: F403
from contracts.accounts.messages import *  # noqa: F403
from contracts.accounts.replies import *  # noqa: F403
from contracts.accounts.values import *  # noqa: F403
