"""Erasure: what every service says once it has forgotten a person ("delete my data").

A person is forgotten by the accounts service (`contracts.accounts.UserForgotten`): their
data key is destroyed, so everything of theirs on the log reads as forgotten. Each service
then drops what it keeps of them beside the log — rows, objects, files — and says so with
one `TenantErased` on its own stream. Both lie under the install's own audit tenant
(`INSTALL`), never the person's: the audit of a deletion must stay readable once the person
is gone, and it holds counts and ids only, never content.

Subjects: `evt.<context>.install.erasure.<forgotten tenant>`. The accounts service reads
every context's `erasure` aggregates to tell what was removed and what is still pending.
"""

from __future__ import annotations

from contracts.base import Event
from contracts.rules import Count, Token, line

INSTALL = "install"  # the install's own audit tenant: never a person's, never forgotten
AGGREGATE = "erasure"  # keyed by the forgotten tenant

WAL_FLUSHED = "flushed"  # a checkpoint and a WAL switch pushed the old rows out of pg_wal
WAL_LEFT = "WAL left to the server's own checkpoints"  # the role may not force one


class TenantErased(Event, frozen=True, kw_only=True, tag="erasure.TenantErased"):
    """One service (`context`) has removed everything it kept of `tenant` outside the log:
    how many rows, objects and files, and how many bytes of files that freed."""

    tenant: Token  # the forgotten one
    user_id: Token
    context: Token
    rows: Count = 0
    objects: Count = 0
    files: Count = 0
    bytes_freed: Count = 0
    wal: line(80) = WAL_FLUSHED  # what became of Postgres' write-ahead log (WAL_FLUSHED/LEFT)


ErasureEvent = TenantErased
