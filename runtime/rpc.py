"""Commands and queries over NATS request/reply, served as `nats.micro` endpoints.

Subjects: `cmd.<context>.<verb>` and `qry.<context>.<name>`. Requests and replies are
msgspec contracts; a failure is a typed error reply (`ErrorReply{error, detail}` in the
body plus the micro error headers) that the caller turns back into a `ServiceError`.
Each request is handled in its own task, so one slow query does not queue the others.
"""

from __future__ import annotations

import asyncio
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

from contracts.base import DomainError, ErrorCode, ErrorReply
from contracts.rules import explain
from runtime import telemetry
from runtime.codec import decode, encode
from runtime.eventstore import ConcurrencyError
from runtime.logs import bind_request_context, get_logger

log = get_logger(__name__)
T = TypeVar("T")

H_TENANT = "Simtune-Tenant"
H_CORRELATION = "Simtune-Correlation-Id"


ServiceError = DomainError  # what a caller of `request` catches


def not_found(what: str) -> ServiceError:
    return ServiceError(ErrorCode.NOT_FOUND, f"{what} was not found")


class Endpoints:
    """The request/reply face of one service."""

    def __init__(self, nc: NATS, *, service: str, context: str, version: str = "0.1.0") -> None:
        self.nc, self.service, self.context, self.version = nc, service, context, version
        self._routes: list[tuple[str, str, Callable]] = []
        self.contracts: dict[str, type] = {}  # subject -> the request contract it decodes
        self._svc: micro.Service | None = None
        self._inflight: set[asyncio.Task] = set()
        self._tracer = telemetry.tracer(f"simtune.{service}")

    def command(self, verb: str, request: type[T], handler: Callable[[T], Awaitable[Any]]) -> None:
        self._add(verb, f"cmd.{self.context}.{verb}", request, handler)

    def query(self, name: str, request: type[T], handler: Callable[[T], Awaitable[Any]]) -> None:
        self._add(name, f"qry.{self.context}.{name}", request, handler)

    def _add(self, name: str, subject: str, request: type, handler: Callable) -> None:
        self._routes.append((name, subject, self._wrap(request, handler)))
        self.contracts[subject] = request

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

        return endpoint

    async def _serve(self, req: micro.Request, request_type: type, handler: Callable) -> None:
        headers = req.headers or {}
        with (
            bind_request_context(
                tenant=headers.get(H_TENANT, "local"),
                correlation_id=headers.get(H_CORRELATION, ""),
            ),
            self._tracer.start_as_current_span(req.subject, context=telemetry.extract(headers)),
        ):
            try:
                body = decode(req.data, request_type)
                reply = await handler(body)
                await req.respond(encode(reply))
            except msgspec.ValidationError as exc:
                await _respond_error(req, ServiceError(ErrorCode.INVALID, explain(str(exc))))
            except msgspec.DecodeError:
                detail = "the request is not valid JSON of the expected shape"
                await _respond_error(req, ServiceError(ErrorCode.INVALID, detail))
            except ConcurrencyError as exc:
                await _respond_error(req, ServiceError(ErrorCode.CONFLICT, str(exc)))
            except ServiceError as exc:
                await _respond_error(req, exc)
            except Exception:
                # The details (a SQL statement, a driver's message) go to the log only.
                log.exception("rpc.failed", subject=req.subject)
                await _respond_error(req, ServiceError(ErrorCode.INTERNAL, _internal(self.service)))


def _internal(service: str) -> str:
    correlation_id = structlog.contextvars.get_contextvars().get("correlation_id") or "none"
    return (
        f"the {service} service could not finish this request; the logs say why"
        f" (correlation id {correlation_id})"
    )


async def _respond_error(req: micro.Request, err: ServiceError) -> None:
    body = encode(ErrorReply(error=err.code, detail=err.detail))
    await req.respond_error(str(err.status), err.detail.replace("\n", " ")[:500], data=body)


def _context(subject: str) -> str:
    parts = subject.split(".")
    return parts[1] if len(parts) > 1 else subject


async def request(
    nc: NATS,
    subject: str,
    payload: Any,
    reply_type: type[T],
    *,
    timeout: float = 10.0,
    correlation_id: str | None = None,
) -> T:
    """Send a command or query and decode its reply; a typed error reply raises ServiceError."""
    headers = {
        H_TENANT: getattr(payload, "tenant", "local"),
        H_CORRELATION: correlation_id or str(uuid.uuid4()),
    }
    telemetry.inject(headers)
    try:
        msg = await nc.request(subject, encode(payload), timeout=timeout, headers=headers)
    except NoRespondersError as exc:
        raise ServiceError(
            ErrorCode.UNAVAILABLE, f"the {_context(subject)} service is not running"
        ) from exc
    except NatsTimeout as exc:
        raise ServiceError(
            ErrorCode.UNAVAILABLE,
            f"the {_context(subject)} service did not answer within {timeout:g} seconds",
        ) from exc
    if msg.headers and ERROR_CODE_HEADER in msg.headers:
        try:
            err = decode(msg.data, ErrorReply)
        except msgspec.DecodeError:
            err = ErrorReply(error=ErrorCode.INTERNAL, detail=msg.headers.get(ERROR_HEADER, ""))
        raise ServiceError(err.error, err.detail)
    return decode(msg.data, reply_type)
