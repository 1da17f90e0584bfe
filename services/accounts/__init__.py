"""Accounts: who is signed in. People and their roles, their API keys, and the ways they sign
in without a password (the one-time setup link, email magic links, passkeys, GitHub; each
ends in a session)."""
