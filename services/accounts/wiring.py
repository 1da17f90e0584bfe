"""Wiring of the accounts service: its read models, its endpoints, its credentials store
(and the passkeys' challenges and counters beside it), and the setup link offered while
nobody has an account."""

from __future__ import annotations

from runtime.service import ServiceHost
from services.accounts.commands import AccountsCommands
from services.accounts.credentials import Credentials
from services.accounts.mail import Mailer
from services.accounts.passkey_store import PasskeyStore
from services.accounts.passkeys import PasskeyHandlers
from services.accounts.projections import ApiKeysProjection, PasskeysProjection, UsersProjection
from services.accounts.queries import AccountsQueries
from services.accounts.setup import offer_setup

NAME = "accounts"


async def build(host: ServiceHost) -> None:
    credentials = Credentials(host.engine)
    await credentials.ensure()
    passkey_store = PasskeyStore(host.engine)
    await passkey_store.ensure()
    host.project(UsersProjection())
    host.project(ApiKeysProjection())
    host.project(PasskeysProjection())
    commands = AccountsCommands(host, credentials, Mailer(host.settings.smtp_url))
    passkeys = PasskeyHandlers(commands, passkey_store)
    host.endpoints.serve_handlers(commands, AccountsQueries(host, credentials), passkeys)
    await offer_setup(host.js, credentials, host.settings)
