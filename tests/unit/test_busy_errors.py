"""A full queue is 503 with Retry-After, in the API's shape and in OpenAI's; a failing model
server is 502 with its one sentence."""

from __future__ import annotations

from litestar import Litestar, Router, get
from litestar.testing import TestClient

from contracts.base import DomainError, ErrorCode
from gateway.expert.answers.openai import openai_errors
from gateway.http.errors import EXCEPTION_HANDLERS, RETRY_AFTER_S


@get("/api/busy")
async def busy() -> None:
    raise DomainError(ErrorCode.BUSY, "The model is busy with 16 other answers; try again soon.")


@get("/api/refused")
async def refused() -> None:
    raise DomainError(ErrorCode.BACKEND, "The server at example.org refused the API key.")


@get("/busy")
async def busy_v1() -> None:
    raise DomainError(ErrorCode.BUSY, "The model is busy.")


def client() -> TestClient:
    v1 = Router(
        path="/v1",
        route_handlers=[busy_v1],
        exception_handlers={DomainError: openai_errors, Exception: openai_errors},
    )
    app = Litestar([busy, refused, v1], exception_handlers=EXCEPTION_HANDLERS)
    return TestClient(app)


def test_a_full_queue_asks_the_client_to_come_back():
    with client() as http:
        reply = http.get("/api/busy")
        assert reply.status_code == 503 and reply.headers["retry-after"] == str(RETRY_AFTER_S)
        assert reply.json()["error"] == "busy"
        assert reply.json()["detail"].startswith("The model is busy with 16 other answers")

        v1 = http.get("/v1/busy")
        assert v1.status_code == 503 and v1.headers["retry-after"] == str(RETRY_AFTER_S)
        assert v1.json()["error"]["type"] == "server_error" and v1.json()["error"]["code"] == "busy"


def test_a_failing_model_server_is_a_bad_gateway_with_its_sentence():
    with client() as http:
        reply = http.get("/api/refused")
        assert reply.status_code == 502
        assert reply.json() == {
            "error": "backend_failed",
            "detail": "The server at example.org refused the API key.",
        }
