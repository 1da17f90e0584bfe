"""The accounts context: signing in and who is signed in. `authentication` (the middleware
every request passes: a session cookie or an API key, through the accounts service's
`Whois`), `access` (what a route asks: nobody, read, write, the owner), `sessions` (the
console's cookie), `api` (`/api/auth/…`, `/api/admin/users`), `pages` (sign-in, setup,
the account page, the owner's page of people), `passkeys` (`/api/auth/passkeys/…`) and
`github` (sign in with GitHub, when configured)."""

from __future__ import annotations

from gateway.accounts import api, github, pages, passkeys
from gateway.http.routes import tagged

ROUTES = [
    # /api/auth/..., /api/auth/passkeys/..., /api/admin/users
    tagged("accounts", [*api.ROUTES, *passkeys.API_ROUTES]),
    *pages.ROUTES,  # /signin, /setup, /account, /admin/users
    *passkeys.PAGE_ROUTES,  # /ui/account/passkeys/{id}/remove
    *github.ROUTES,  # /signin/github, /signin/github/callback
]
