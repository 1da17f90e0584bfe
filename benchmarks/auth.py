"""What signing in adds to a request (issue 20): `GET /api/experts` with an API key through
the real gateway, beside the same request on a gateway with the sign-in check left out, in
the same run.

Every request now passes the gateway's `authenticate` middleware, which asks the accounts
service over NATS whose the key is (`Whois`: a hash of the key looked up in Postgres) before
the route runs. That round trip is the price, and this measures it where a user pays it.

* **Signed in.** The real gateway (uvicorn, in this process, as the other benchmarks serve
  it: `served_gateway`), the expert and accounts services in-process on a fresh embedded
  NATS + Postgres; an httpx client sends the owner's key (`Authorization: Bearer sk-sim-…`).
* **The baseline.** `create_app(settings, sign_in_required=False)` — the same app without the
  middleware, acting for the tenant of nobody — served the same way on another port, same
  NATS, same services; an httpx client with no key.

Both lists hold EXPERTS experts (the owner's, made through the signed-in gateway; nobody's,
made through the open one), so both replies are the same size and only the check differs.
Each client keeps its one connection alive. WARMUP calls of each, then CALLS of each,
alternating which goes first (`timed_pair`); every reply is checked (200, EXPERTS experts).
Where the time goes: `Whois` alone over NATS (asked on the in-process accounts service's
connection, no HTTP), as many calls after.

`python -m benchmarks auth`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn

from benchmarks.common import (
    begin,
    embedded_stack,
    percentiles,
    print_table,
    record,
    served_gateway,
    timed_pair,
)
from contracts.accounts import Whois
from gateway.app import create_app
from runtime.devstack.util import free_port
from runtime.rpc import ask
from runtime.settings import Settings
from tests.support.inprocess import start_service
from tests.support.waiting import until

CALLS, WARMUP, EXPERTS = 2_000, 200, 10


@asynccontextmanager
async def served_open(settings: Settings) -> AsyncIterator[str]:
    """The gateway without its sign-in check, served as `served_gateway` serves the real one
    (uvicorn, this process, a free port): its base URL once it listens."""
    port = free_port()
    app = create_app(settings, sign_in_required=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await until(lambda: server.started or serving.done(), 30, "the open gateway listening")
    if serving.done():
        serving.result()  # the start failed: say why
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def make_experts(api: httpx.AsyncClient, who: str) -> None:
    for n in range(EXPERTS):
        reply = await api.post("/api/experts", json={"name": f"{who} {n}"})
        assert reply.status_code == 201, reply.text


def check(reply: httpx.Response, side: str) -> None:
    assert reply.status_code == 200, f"{side}: {reply.status_code} {reply.text}"
    assert len(reply.json()) == EXPERTS, f"{side}: {len(reply.json())} experts"


async def whois_alone(nc, key: str) -> tuple[float, float]:
    """Median and p95 (ms) of the accounts service's `Whois` over NATS, no HTTP around it."""
    for _ in range(WARMUP):
        await ask(nc, Whois(credential=key))
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await ask(nc, Whois(credential=key))
        times.append(time.perf_counter() - started)
    return percentiles(times)


async def run() -> None:
    begin()
    async with embedded_stack() as stack:
        settings = stack.settings()
        expert = await start_service(settings, "expert")
        try:
            async with (
                served_gateway(settings) as gateway,
                served_open(settings) as open_url,
                httpx.AsyncClient(base_url=gateway.url, headers=gateway.headers) as signed,
                httpx.AsyncClient(base_url=open_url) as anonymous,
            ):
                await make_experts(signed, "Owner's")
                await make_experts(anonymous, "Nobody's")
                figures = await timed_pair(
                    lambda: signed.get("/api/experts"),
                    lambda: anonymous.get("/api/experts"),
                    check,
                    calls=CALLS,
                    warmup=WARMUP,
                )
                whois_p50, whois_p95 = await whois_alone(gateway.nc, gateway.owner.key)
        finally:
            await expert.stop()

    figures = {
        "calls": CALLS,
        "experts_listed": EXPERTS,
        "signed_in_p50_ms": figures["service_p50_ms"],
        "signed_in_p95_ms": figures["service_p95_ms"],
        "no_check_p50_ms": figures["raw_p50_ms"],
        "no_check_p95_ms": figures["raw_p95_ms"],
        "ratio_p50": figures["service_p50_ms"] / figures["raw_p50_ms"],
        "ratio_p95": figures["service_p95_ms"] / figures["raw_p95_ms"],
        "added_p50_ms": figures["service_p50_ms"] - figures["raw_p50_ms"],
        "whois_p50_ms": whois_p50,
        "whois_p95_ms": whois_p95,
    }
    print_table(
        f"GET /api/experts ({EXPERTS} experts listed), {CALLS} calls each, alternating",
        ("request", "p50 ms", "p95 ms"),
        [
            ("signed in: API key, accounts asks Whois", figures["signed_in_p50_ms"],
             figures["signed_in_p95_ms"]),
            ("baseline: sign_in_required=False", figures["no_check_p50_ms"],
             figures["no_check_p95_ms"]),
            ("ratio signed in / baseline", round(figures["ratio_p50"], 3),
             round(figures["ratio_p95"], 3)),
            ("Whois alone over NATS (no HTTP)", whois_p50, whois_p95),
        ],
    )  # fmt: skip
    record("auth", figures)
