"""The accounts context: signing in and who is signed in. `authentication` (the middleware
every request passes: a session cookie or an API key, through the accounts service's
`Whois`), `access` (what a route asks: nobody, read, write, the owner), `sessions` (the
console's cookie), `api` (`/api/auth/…`, `/api/admin/users`), `pages` (sign-in, setup,
the account page, the owner's page of people), `passkeys` (`/api/auth/passkeys/…`) and
`github` (sign in with GitHub, when configured)."""

from __future__ import annotations

from gateway.accounts import api, data, forget_pages, forgetting, github, pages, passkeys
from gateway.http.routes import tagged

ROUTES = [
    # /api/auth/..., /api/auth/passkeys/..., /api/admin/users
    tagged(
        "accounts",
        [*api.ROUTES, *passkeys.API_ROUTES, *data.API_ROUTES, *forgetting.ROUTES],
    ),
    *data.PAGE_ROUTES,  # /ui/account/data/... (your data: export, import)
    *pages.ROUTES,  # /signin, /setup, /account, /admin/users
    *forget_pages.ROUTES,  # /ui/account/delete, /ui/admin/users/{id}/forget
    *passkeys.PAGE_ROUTES,  # /ui/account/passkeys/{id}/remove
    *github.ROUTES,  # /signin/github, /signin/github/callback
]
