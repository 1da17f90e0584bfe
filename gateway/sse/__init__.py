"""The Server-Sent Events plumbing: the hub that fans projected events out to listeners
(`hub`), a client's position in the streams (`cursor`), what it missed re-read from the log
(`replay`), the `/api/events` route (`events`), and one run followed until it ends
(`follow`, for the trainer's and the benchmark's progress streams)."""

from __future__ import annotations

from gateway.sse import events

ROUTES = events.ROUTES  # /api/events
