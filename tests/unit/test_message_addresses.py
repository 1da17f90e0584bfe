"""Every command and query knows where it is served and what it is answered with, so no
caller spells a subject: the contracts are found by walking the class tree, as the
services and the gateway find them."""

from __future__ import annotations

import msgspec
import pytest

import contracts.events  # noqa: F401 - imports every context's contracts
from contracts.base import (
    Accepted,
    Command,
    GetHealth,
    Query,
    ServiceHealth,
    context_of,
    reply_of,
    subject_of,
)
from contracts.events import STREAMS
from contracts.expert import CreateExpert, ExpertView, GetExpert
from contracts.trainer import GetRun, RunView, StartFinetune
from runtime.rpc import Endpoints
from tests.unit.test_contract_rules import every_subclass

COMMANDS, QUERIES = every_subclass(Command), every_subclass(Query)


@pytest.mark.parametrize("cls", COMMANDS + QUERIES, ids=lambda c: c.__name__)
def test_each_message_names_its_subject_and_reply(cls):
    kind = "cmd" if issubclass(cls, Command) else "qry"
    subject = subject_of(cls, context="expert")
    assert subject.split(".")[0] == kind
    assert context_of(subject) in STREAMS, f"{cls.__name__} names no known service"
    assert issubclass(reply_of(cls), msgspec.Struct)


def test_a_message_lives_with_its_context():
    """A context's contracts module holds only the messages its service serves (answers
    and personas are the expert service's)."""
    for cls in COMMANDS + QUERIES:
        module = cls.__module__.split(".")[1]  # contracts.<context>[.part]
        if "{context}" in cls.subject:
            assert module == "base"
            continue
        served_by = context_of(subject_of(cls))
        assert served_by == module or (module, served_by) == ("answers", "expert"), cls


def test_no_two_messages_share_a_subject():
    subjects = [subject_of(cls, "any") for cls in COMMANDS + QUERIES]
    assert len(subjects) == len(set(subjects))


def test_the_wire_format_is_unchanged():
    assert subject_of(CreateExpert) == "cmd.expert.create"
    assert reply_of(CreateExpert) is Accepted
    assert subject_of(GetExpert(expert_id="e1")) == "qry.expert.get"
    assert reply_of(GetExpert) is ExpertView


def test_a_message_every_service_answers_needs_the_service_named():
    assert subject_of(GetHealth(), context="ingest") == "qry.ingest.health"
    assert reply_of(GetHealth) is ServiceHealth
    with pytest.raises(TypeError, match="name the context"):
        subject_of(GetHealth())


class RunHandlers:
    """A handler class as a service writes one: the message type in each signature."""

    async def get(self, q: GetRun) -> RunView: ...

    async def start(self, cmd: StartFinetune) -> Accepted: ...

    async def plan(self, expert_id: str) -> None: ...  # not a message: not an endpoint

    async def _again(self, q: GetRun) -> RunView: ...  # private: not an endpoint


def test_a_handler_class_serves_the_messages_its_methods_take():
    endpoints = Endpoints(None, service="trainer", context="trainer")
    endpoints.serve_handlers(RunHandlers())
    assert endpoints.contracts == {"qry.trainer.run": GetRun, "cmd.trainer.start": StartFinetune}


def test_a_message_served_twice_or_by_the_wrong_service_is_refused_at_start():
    endpoints = Endpoints(None, service="trainer", context="trainer")
    endpoints.serve(GetRun, RunHandlers().get)
    with pytest.raises(ValueError, match="served twice"):
        endpoints.serve_handlers(RunHandlers())
    with pytest.raises(ValueError, match="served by the expert service"):
        endpoints.serve(GetExpert, RunHandlers().get)
