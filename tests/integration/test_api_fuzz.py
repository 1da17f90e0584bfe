"""Fuzz: schemathesis drives the gateway's own OpenAPI document against the real stack.

First every operation alone, with valid and with invalid inputs, its ids often naming an
expert or document that exists (deletions last); then a stateful run along the links
schemathesis infers (POST /api/experts gives the id that GET/PATCH/DELETE
/api/experts/{expert_id}, its documents, uploads and search take; a document list gives
the ids /api/documents/{document_id} takes) and the ones added here (an upload's answer
names its documents). Uploads carry text files as well as schemathesis' own; rebuilds
name real services as well as none, so projections are rebuilt while in use. Nothing may
answer 5xx, every error is `{"error", "detail"}` naming no internals, and every answer is
one the document declares (status code, content type, headers, body). Afterwards every
projection equals its rebuild from the log, and the stack still works.

Bounded and reproducible: a fixed number of examples and scenarios, fixed seeds, no
example database. What a stateful scenario can draw depends on what the API answered
before (an empty list gives no id to follow), so Hypothesis may stop a run as "flaky"
when the state has moved on; the run then goes on under the next fixed seed until all
scenarios have run.

The gateway serves on this test's event loop, so schemathesis' blocking HTTP calls run in
a worker thread while the loop goes on serving them. `GET /api/events` (Server-Sent
Events) never ends; schemathesis reads it until it falls silent for `STREAM_READ_S`.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable

from contracts.base import DomainError, ErrorCode
from tests.support.training import end_all_runs
from tests.support.views import differences, snapshot

pytestmark = [
    pytest.mark.integration,
    # Hypothesis notes any change to the global `random` state during a draw; the stack serving
    # on the event loop meanwhile (OpenTelemetry's span ids) and schemathesis' own negative
    # mutations use it. Generation itself draws from Hypothesis, so it stays reproducible.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

SEED = 5  # issue 5
# Per operation and generation mode (valid, invalid): every operation has tests of its own
# besides; here what counts is that each is called several ways, not a long run of any one.
# Each operation's examples are drawn apart (its ids from the pool two times in three), and
# the chained run below calls them again in sequences; the test checks that each operation
# was called in each mode it can be.
EXAMPLES = 5
SCENARIOS = 40  # stateful scenarios in all ...
STEPS = 8  # ... of at most this many calls each
MAX_RUNS = 12  # stateful runs (seeds) at most, when the API's state cuts them short
REQUEST_TIMEOUT_S = 30.0
STREAM = "/api/events"  # SSE: a comment on connecting, then silence until something happens
STREAM_READ_S = 0.5
UPLOAD = "/api/experts/{expert_id}/documents"
REBUILD = "/api/admin/projections/{service}/rebuild"
SERVICES = ("expert", "ingest", "knowledge")
# Text files: any printable Unicode, lines and tabs, and at times a control character or two
# (accepted as text while they stay under 1%, so they must be cleaned on the way in).
TEXT_FILES = st.lists(
    st.builds(
        lambda text, junk: (text + junk).encode(),
        st.text(
            st.characters(exclude_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r"),
            min_size=200,
            max_size=4000,
        ),
        st.text(st.characters(categories=("Cc",)), max_size=2),
    ),
    min_size=1,
    max_size=3,
)
INTERNALS = re.compile(
    r"(?i:traceback|sqlalchemy|asyncpg|psycopg|nats://|postgres(ql)?://)|File \"|SELECT |INSERT INTO"
)

# Schemathesis' own checks besides ours (`well_formed`): nothing answers 5xx (but 502
# "backend_failed", which `fault` tells apart), and every answer is one the OpenAPI document
# declares, in its status code, content type, headers and body.
CHECKS = {
    "enabled": False,  # the others (re-sending requests, authorization probes) are not asked for
    "not_a_server_error": {"enabled": True, "expected-statuses": ["2xx", "3xx", "4xx", "502"]},
    "status_code_conformance": {"enabled": True},
    "content_type_conformance": {"enabled": True},
    "response_headers_conformance": {"enabled": True},
    "response_schema_conformance": {"enabled": True},
}

SETTINGS = hypothesis.settings(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


def fault(response) -> str | None:
    """What is wrong with this answer: a 5xx, or an error that is not a plain JSON sentence
    (in OpenAI's shape under /v1). A 502 is no fault when the model server a fuzzed request
    configured for an expert failed: that is the sentence a person needs."""
    if response.status_code < 400:
        return None
    if not response.headers.get("content-type", [""])[0].startswith("application/json"):
        return f"{response.status_code} is not JSON"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} is not valid JSON"
    if urlsplit(str(response.request.url)).path.startswith("/v1/") and isinstance(body, dict):
        body = openai_error(body)
    if response.status_code >= 500 and not (
        response.status_code == 502
        and isinstance(body, dict)
        and body.get("error") == "backend_failed"
    ):
        return f"server error {response.status_code}"
    if not (isinstance(body, dict) and set(body) == {"error", "detail"}):
        return f"{response.status_code} is not {{error, detail}}"
    if not all(isinstance(value, str) and value for value in body.values()):
        return f"{response.status_code} has an empty or non-text error or detail"
    if leaked := INTERNALS.search(response.text):
        return f"{response.status_code} shows internals ({leaked.group()!r})"
    return None


def openai_error(body: dict) -> dict:
    """`{"error": {"message", "type", "code", ...}}` as `{error, detail}`, when it is one."""
    inner = body.get("error")
    if not (isinstance(inner, dict) and {"message", "type", "code"} <= set(inner)):
        return {"shape": "not OpenAI's error"}
    return {"error": inner["code"], "detail": inner["message"]}


def describe(case, response, problem: str) -> str:
    request = case.as_curl_command(headers=dict(response.request.headers))
    return f"{problem}\n  {request}\n  -> {response.status_code} {response.text[:500]!r}"


@dataclass
class Log:
    """What the fuzzers sent and got: for the assertions (each fault) and the report."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    faults: list[str] = field(default_factory=list)
    documents: set[str] = field(default_factory=set)
    walked: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, mode)
    scenarios: int = 0
    runs: int = 0

    def record(self, case, response) -> None:
        self.statuses[(case.operation.label, response.status_code)] += 1
        if problem := fault(response):
            self.faults.append(describe(case, response, problem))
        if case.operation.path == UPLOAD and response.status_code == 202:
            self.documents.update(doc["id"] for doc in response.json()["documents"])

    def by_class(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_, status), n in self.statuses.items():
            counts[f"{status // 100}xx"] += n
        return dict(sorted(counts.items()))


LOG = Log()
POOL: dict[str, list[str]] = {"expert_id": [], "document_id": []}


def well_formed(ctx, response, case) -> None:
    """The schemathesis check: Hypothesis stops at the first fault and reports its case."""
    problem = fault(response)
    assert problem is None, describe(case, response, problem)


def timeout(case) -> float:
    return STREAM_READ_S if case.operation.path == STREAM else REQUEST_TIMEOUT_S


@pytest.fixture(scope="module")
async def pool(stack):
    """Experts and documents that exist, for the ids the fuzzers draw."""
    async with httpx.AsyncClient(
        base_url=stack.url, timeout=REQUEST_TIMEOUT_S, headers=stack.owner.headers
    ) as client:
        for n in range(4):
            created = await client.post("/api/experts", json={"name": f"Fuzz pool {n}"})
            POOL["expert_id"].append(created.raise_for_status().json()["id"])
        for n in range(3):
            text = f"Pool document {n}: the tide tables of Varnholm harbour.".encode()
            files = [("file", (f"pool{n}.txt", text, "text/plain"))]
            expert_id = POOL["expert_id"][n % 2]
            uploaded = await client.post(f"/api/experts/{expert_id}/documents", files=files)
            documents = uploaded.raise_for_status().json()["documents"]
            POOL["document_id"] += [doc["id"] for doc in documents]
    LOG.documents.update(POOL["document_id"])
    return POOL


def documents_of_upload(raw: dict) -> None:
    """Links schemathesis does not infer: an upload's answer names the documents it made."""
    responses = raw["paths"][UPLOAD]["post"]["responses"]
    responses["202"]["links"] = {
        f"{method.title()}{name}": {
            "operationRef": f"#/paths/{path.replace('/', '~1')}/{method}",
            "parameters": {"path.document_id": "$response.body#/documents/0/id"},
        }
        for method, path, name in [
            ("get", "/api/documents/{document_id}", "UploadedDocument"),
            ("get", "/api/documents/{document_id}/file", "UploadedFile"),
            ("delete", "/api/documents/{document_id}", "UploadedDocument"),
        ]
    }


@pytest.fixture(scope="module")
async def schema(stack, pool):
    async with httpx.AsyncClient(base_url=stack.url) as client:
        raw = (await client.get("/schema/openapi.json")).raise_for_status().json()
    documents_of_upload(raw)
    # Nothing from a schemathesis.toml or the environment: the checks are these.
    config = schemathesis.Config.from_dict({"checks": CHECKS})
    loaded = schemathesis.openapi.from_dict(raw, config=config)
    loaded.config.update(base_url=stack.url, headers=stack.owner.headers)  # signed in
    checks = loaded.config.checks
    assert {name for name in CHECKS if checks.get_by_name(name=name).enabled} == set(CHECKS) - {
        "enabled"
    }
    assert not checks.negative_data_rejection.enabled

    @loaded.hook
    def before_generate_body(context, strategy):
        """Uploads: text files, besides schemathesis' own (images, archives, a PDF, bytes)."""
        if context.operation.path != UPLOAD:
            return strategy
        texts = st.fixed_dictionaries({"file": TEXT_FILES})
        return st.one_of(texts, texts, strategy)

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):
        """Ids: besides any string, often one that exists; services: their own names too."""
        if not isinstance(path_parameters, dict):
            return st.just(path_parameters)
        drawn = {name: st.just(value) for name, value in path_parameters.items()}
        for name, value in path_parameters.items():
            if POOL.get(name):
                existing = st.sampled_from(POOL[name])
                drawn[name] = st.one_of(st.just(value), existing, existing)
        if context.operation.path == REBUILD:  # rebuilt while in use
            drawn["service"] = st.sampled_from([path_parameters.get("service"), *SERVICES])
        return st.fixed_dictionaries(drawn)

    return loaded


def operations(schema) -> list:
    """Every operation; deletions last (documents, then experts), so the pool lasts till then."""
    results = list(schema.get_all_operations())
    unusable = [result.err() for result in results if not hasattr(result, "ok")]
    assert not unusable, f"schemathesis cannot use these operations: {unusable}"
    found = [result.ok() for result in results]
    assert len(found) >= 14, [op.label for op in found]
    return sorted(found, key=lambda op: (op.method.upper() == "DELETE", "/experts" in op.path))


def fuzz_each_operation(schema) -> tuple[list[str], list[str]]:
    """Every operation alone, valid and invalid inputs: what failed, per operation and mode,
    and the (operation, mode) pairs that were never called although they could be."""
    failures, unwalked = [], []
    for operation in operations(schema):
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            walked = (operation.label, mode.value)

            @hypothesis.seed(SEED)
            @hypothesis.settings(SETTINGS, max_examples=EXAMPLES)
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def run(case) -> None:
                response = case.call(timeout=timeout(case))
                LOG.walked[walked] += 1  # noqa: B023 (run() is called in this iteration)
                LOG.record(case, response)
                case.validate_response(response, additional_checks=[well_formed])

            try:
                run()
            except Unsatisfiable:
                # Nothing this operation takes can be invalid (an id is any string).
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
                continue
            except (Exception, schemathesis.errors.FailureGroup) as exc:  # noqa: BLE001
                failures.append(f"{operation.label} ({mode.value}): {exc}")  # reported together
            if not LOG.walked[walked]:
                unwalked.append(f"{operation.label} ({mode.value})")
    return failures, unwalked


def fuzz_statefully(schema) -> None:
    linked = schema.as_state_machine()
    assert linked.schema.statistic.transitions.total >= 20, "no links inferred: nothing to chain"

    class Scenario(linked):
        def call(self, case, **kwargs):
            return case.call(timeout=timeout(case), **kwargs)

        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            LOG.record(case, response)

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, additional_checks=[well_formed])

        def teardown(self) -> None:
            LOG.scenarios += 1
            super().teardown()

    while LOG.scenarios < SCENARIOS and LOG.runs < MAX_RUNS:
        machine = hypothesis.seed(SEED + LOG.runs)(type(f"Run{LOG.runs}", (Scenario,), {}))
        LOG.runs += 1
        left = SCENARIOS - LOG.scenarios
        settings = hypothesis.settings(SETTINGS, max_examples=left, stateful_step_count=STEPS)
        try:
            machine.run(settings=settings)
        except FlakyStrategyDefinition:
            continue  # the API's state changed what a scenario could draw: next seed


@pytest.mark.timeout(900)  # every operation of the OpenAPI document, many ways each
async def test_every_operation_alone_answers_without_a_server_error(schema):
    try:
        failures, unwalked = await asyncio.to_thread(fuzz_each_operation, schema)
    finally:
        for ids in POOL.values():  # deleted by now; the stateful run follows its own links
            ids.clear()
    assert not failures, "\n\n".join(failures)
    assert not unwalked, f"never called: {unwalked}"
    assert not LOG.faults, "\n\n".join(LOG.faults)
    assert LOG.by_class().get("2xx"), LOG.statuses


@pytest.mark.timeout(900)
async def test_chained_calls_answer_without_a_server_error(schema):
    await asyncio.to_thread(fuzz_statefully, schema)
    assert not LOG.faults, "\n\n".join(LOG.faults)
    assert LOG.scenarios >= SCENARIOS, f"{LOG.scenarios} scenarios in {LOG.runs} runs"
    print(f"\nfuzz: {LOG.by_class()}; {LOG.scenarios} scenarios in {LOG.runs} stateful runs")


async def settled(api, document_id: str, timeout: float = 90.0) -> str | None:
    """The document's status once ready or rejected; None if it is gone."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await api.get(f"/api/documents/{document_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        status = response.json()["status"]
        if status in ("ready", "rejected"):
            return status
        assert asyncio.get_running_loop().time() < deadline, f"{document_id} stuck in {status}"
        await asyncio.sleep(0.2)


async def rebuild(host, timeout: float = 60.0) -> None:
    """Rebuild now, once a rebuild the fuzzers started has finished."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await host.rebuild()
            return
        except DomainError as exc:
            if exc.code != ErrorCode.CONFLICT or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_afterwards_every_rebuilt_view_equals_the_live_one(services, api):
    for document_id in sorted(LOG.documents):
        await settled(api, document_id)
    await end_all_runs(services["trainer"].nc)  # runs the fuzzers started stop moving
    for host in services.values():
        await host.wait_caught_up()
    for host in services.values():
        live = await snapshot(host)
        await rebuild(host)
        rebuilt = await snapshot(host)
        assert rebuilt == live, differences(live, rebuilt, host.context)


async def test_afterwards_the_stack_still_works(api):
    name = f"After the fuzz {uuid.uuid4().hex[:6]}"
    created = await api.post("/api/experts", json={"name": name})
    assert created.status_code == 201, created.text
    expert_id = created.json()["id"]
    text = b"The harbour light at Varnholm is green on Tuesdays."
    files = [("file", ("after.txt", text, "text/plain"))]
    uploaded = await api.post(f"/api/experts/{expert_id}/documents", files=files)
    assert uploaded.status_code == 202, uploaded.text
    document_id = uploaded.json()["documents"][0]["id"]
    assert await settled(api, document_id) == "ready"
    found = await api.get(f"/api/experts/{expert_id}/search", params={"q": "harbour light"})
    assert found.status_code == 200, found.text
    hits = found.json()["results"]
    assert hits and "green" in hits[0]["text"]
