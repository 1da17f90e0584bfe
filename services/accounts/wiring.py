"""Wiring of the accounts service: its read models, its endpoints, its credentials store
(and the passkeys' challenges and counters beside it), and the setup link offered while
nobody has an account."""

from __future__ import annotations

from contracts.accounts.exports import EXPORTS_BUCKET, UPLOADS_BUCKET
from runtime.erasure import TenantErasure
from runtime.service import ServiceHost
from services.accounts.commands import AccountsCommands
from services.accounts.credentials import Credentials
from services.accounts.erasures import ErasuresProjection
from services.accounts.exports import wiring as exports
from services.accounts.forgetting import Forgetting, credentials_of
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
    host.project(ErasuresProjection())
    commands = AccountsCommands(host, credentials, Mailer(host.settings.smtp_url))
    passkeys = PasskeyHandlers(commands, passkey_store)
    host.endpoints.serve_handlers(commands, AccountsQueries(host, credentials), passkeys)
    host.endpoints.serve_handlers(Forgetting(host, credentials))
    # a forgotten person's account, keys, passkeys and credentials; their archives
    TenantErasure(host, buckets=(EXPORTS_BUCKET, UPLOADS_BUCKET), extra=credentials_of).wire()
    exports.wire(host)  # export my data, import it elsewhere
    await offer_setup(host.js, credentials, host.settings)
