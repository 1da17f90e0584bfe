"""Commands and queries over NATS request/reply, served as `nats.micro` endpoints.

Every command and query contract carries its subject (`cmd.<context>.<verb>`,
`qry.<context>.<name>`) and its reply contract, so a service serves a message type
(`Endpoints.serve(GetExpert, handler)`) and a caller sends a message (`ask(nc, query)`, a
command likewise) without spelling either. The correlation and causation ids travel from the
work in progress (`runtime.logs.bind_request_context`). A failure is a typed error reply
(`ErrorReply{error, detail}` in the body plus the micro error headers) that the caller turns
back into a `DomainError`. Each request is handled in its own task, so one slow query does
not queue the others. A request sent while a reactor reacts carries that event's id, so what
the serving service appends names the same cause.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import typing
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import structlog
from nats import micro
from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.micro.request import ERROR_CODE_HEADER, ERROR_HEADER

from contracts.base import (
    Command,
    DomainError,
    ErrorCode,
    ErrorReply,
    Message,
    Query,
    context_of,
    reply_of,
    subject_of,
)
from contracts.rules import explain
from runtime import db, telemetry
from runtime import headers as h
from runtime.codec import decode, encode
from runtime.eventstore import ConcurrencyError
from runtime.logs import bind_request_context, bound, get_logger
from runtime.outages import disk_full

# how long a service took over each command and query, by service and subject (errors included)
handled = telemetry.meter("simtune.rpc").create_histogram(
    "simtune.rpc.server.duration", unit="ms", description="requests a service answered over NATS"
)

log = get_logger(__name__)
T = TypeVar("T")

# A query cancelled for another session's lock is asked again: 4 tries, 0.1 s apart, doubling.
READ_TRIES, READ_PAUSE_S = 4, 0.1


def not_found(what: str) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{what} was not found")


class Endpoints:
    """The request/reply face of one service."""

    def __init__(self, nc: NATS, *, service: str, context: str, version: str = "0.1.0") -> None:
        self.nc, self.service, self.context, self.version = nc, service, context, version
        self._routes: list[tuple[str, str, Callable]] = []
        self.contracts: dict[str, type] = {}  # subject -> the request contract it decodes
        self._svc: micro.Service | None = None
        self._inflight: set[asyncio.Task] = set()
        self._tracer = telemetry.tracer(f"simtune.{service}")

    def serve(self, request: type[T], handler: Callable[[T], Awaitable[Any]]) -> None:
        """Answer `request` messages, at the subject the contract names."""
        subject = subject_of(request, self.context)
        if context_of(subject) != self.context:
            raise ValueError(f"{request.__name__} is served by the {context_of(subject)} service")
        if subject in self.contracts:
            raise ValueError(f"{request.__name__} is served twice")
        name = subject.rsplit(".", 1)[-1]
        self._routes.append((name, subject, self._wrap(request, handler)))
        self.contracts[subject] = request

    def serve_handlers(self, *handlers: object) -> None:
        """Serve every public async method of `handlers` whose first parameter is a command or
        query: the message type in its signature is what it answers, so a handler class states
        its endpoints once (`async def get(self, q: GetRun) -> RunView`)."""
        for obj in handlers:
            for name, method in inspect.getmembers(obj, inspect.iscoroutinefunction):
                if name.startswith("_"):
                    continue
                hints = typing.get_type_hints(method)
                first = next(iter(inspect.signature(method).parameters), None)
                message = hints.get(first) if first else None
                if isinstance(message, type) and issubclass(message, Command | Query):
                    self.serve(message, method)

    @property
    def running(self) -> bool:
        """Whether its NATS micro service is up (between start and stop)."""
        return self._svc is not None

    async def start(self) -> None:
        self._svc = await micro.add_service(
            self.nc, name=self.service, version=self.version, description=f"simtune {self.service}"
        )
        for name, subject, handler in self._routes:
            await self._svc.add_endpoint(name=name, subject=subject, handler=handler)
        await self.nc.flush()  # the server knows every endpoint before `start` returns

    async def stop(self) -> None:
        if self._svc is not None:
            await self._svc.stop()
        await asyncio.gather(*self._inflight, return_exceptions=True)

    def _wrap(self, request_type: type, handler: Callable) -> Callable:
        async def endpoint(req: micro.Request) -> None:
            task = asyncio.create_task(self._serve(req, request_type, handler))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            started, labels = time.perf_counter(), {"service": self.service, "subject": req.subject}
            task.add_done_callback(
                lambda _: handled.record((time.perf_counter() - started) * 1000, labels)
            )

        return endpoint

    async def _answer(self, handler: Callable, body: object, subject: str) -> Any:
        """The handler's reply. A query (it only reads) whose statement was cancelled for
        another session's lock (a deadlock Postgres broke with a rebuild's swap, say) is
        asked again, after a short pause that doubles, READ_TRIES times in all."""
        attempt = 1
        while True:
            try:
                return await handler(body)
            except Exception as exc:
                if (
                    attempt == READ_TRIES
                    or not isinstance(body, Query)
                    or not db.lock_conflict(exc)
                ):
                    raise
                log.info("rpc.read_again", subject=subject, attempt=attempt, error=repr(exc))
                await asyncio.sleep(READ_PAUSE_S * 2 ** (attempt - 1))
                attempt += 1

    async def _serve(self, req: micro.Request, request_type: type, handler: Callable) -> None:
        headers = req.headers or {}
        with (
            bind_request_context(
                tenant=headers.get(h.TENANT, "local"),
                correlation_id=headers.get(h.CORRELATION, ""),
                causation_id=headers.get(h.CAUSATION, ""),
            ),
            self._tracer.start_as_current_span(req.subject, context=telemetry.extract(headers)),
        ):
            try:
                body = decode(req.data, request_type)
                reply = await self._answer(handler, body, req.subject)
                await req.respond(encode(reply))
            except msgspec.ValidationError as exc:
                await _respond_error(req, DomainError(ErrorCode.INVALID, explain(str(exc))))
            except msgspec.DecodeError:
                detail = "the request is not valid JSON of the expected shape"
                await _respond_error(req, DomainError(ErrorCode.INVALID, detail))
            except ConcurrencyError as exc:
                await _respond_error(req, DomainError(ErrorCode.CONFLICT, str(exc)))
            except DomainError as exc:
                await _respond_error(req, exc)
            except Exception as exc:
                # The details (a SQL statement, a driver's message) go to the log only.
                if db.unreachable(exc):
                    log.warning("rpc.database_unreachable", subject=req.subject, error=repr(exc))
                    await _respond_error(req, _database_unreachable(self.service))
                    return
                if disk_full(exc):
                    log.warning("rpc.disk_full", subject=req.subject, error=repr(exc))
                    await _respond_error(req, _disk_full(self.service))
                    return
                if db.lock_conflict(exc):
                    log.warning("rpc.lock_conflict", subject=req.subject, error=repr(exc))
                    await _respond_error(req, _busy(self.service))
                    return
                log.exception("rpc.failed", subject=req.subject)
                await _respond_error(req, DomainError(ErrorCode.INTERNAL, _internal(self.service)))


def _busy(service: str) -> DomainError:
    return DomainError(
        ErrorCode.UNAVAILABLE,
        f"the {service} service is busy rearranging its data right now; try again in a moment",
    )


def _database_unreachable(service: str) -> DomainError:
    return DomainError(
        ErrorCode.UNAVAILABLE,
        f"the {service} service cannot reach its database right now; try again in a moment",
    )


def _disk_full(service: str) -> DomainError:
    return DomainError(
        ErrorCode.UNAVAILABLE,
        f"the server's storage is full, so the {service} service stored nothing; free some"
        " space (delete old datasets, adapters or documents) and try again",
    )


def _internal(service: str) -> str:
    correlation_id = structlog.contextvars.get_contextvars().get("correlation_id") or "none"
    return (
        f"the {service} service could not finish this request; the logs say why"
        f" (correlation id {correlation_id})"
    )


async def _respond_error(req: micro.Request, err: DomainError) -> None:
    body = encode(ErrorReply(error=err.code, detail=err.detail))
    await req.respond_error(str(err.status), err.detail.replace("\n", " ")[:500], data=body)


async def ask(
    nc: NATS,
    message: Message,
    *,
    timeout: float = 10.0,
    context: str = "",
) -> Any:
    """Send a command or query to the service that serves it and decode its reply (the
    contract the message names); a typed error reply raises DomainError. `context` names the
    service for a message every service serves (health, rebuilds)."""
    return await request(
        nc,
        subject_of(message, context),
        message,
        reply_of(message),
        timeout=timeout,
    )


async def request(
    nc: NATS,
    subject: str,
    payload: Any,
    reply_type: type[T],
    *,
    timeout: float = 10.0,
) -> T:
    """The round trip under `ask`, to a subject spelled out (a test proving the wire format)."""
    headers = {
        h.TENANT: getattr(payload, "tenant", "local"),
        h.CORRELATION: bound("correlation_id") or str(uuid.uuid4()),
    }
    if cause := bound("causation_id"):
        headers[h.CAUSATION] = cause
    telemetry.inject(headers)
    try:
        msg = await nc.request(subject, encode(payload), timeout=timeout, headers=headers)
    except NoRespondersError as exc:
        raise DomainError(
            ErrorCode.UNAVAILABLE, f"the {context_of(subject)} service is not running"
        ) from exc
    except NatsTimeout as exc:
        raise DomainError(
            ErrorCode.UNAVAILABLE,
            f"the {context_of(subject)} service did not answer within {timeout:g} seconds",
        ) from exc
    if msg.headers and ERROR_CODE_HEADER in msg.headers:
        try:
            err = decode(msg.data, ErrorReply)
        except msgspec.DecodeError:
            err = ErrorReply(error=ErrorCode.INTERNAL, detail=msg.headers.get(ERROR_HEADER, ""))
        raise DomainError(err.error, err.detail)
    return decode(msg.data, reply_type)
