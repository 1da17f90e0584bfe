"""Property: whatever a command contract accepts, every projection can apply.

Hypothesis draws arbitrary valid commands for every command endpoint the services serve
(found in their endpoint tables, so a new command is covered without a new test), within
the contracts' own constraints and at their edges: the longest texts, the fullest lists,
any Unicode, other tenants, uploads whose text holds NUL and control characters. Each goes
to the real services over NATS; the services may refuse it (a 4xx), but whatever they
append must be applied by every projection on the real Postgres: no projection is left
behind, and rebuilt from the log every view equals the live one.

Each subject is a test of its own, with its own examples: one example drawing a command for
every subject at once would be far past what Hypothesis draws for one example (a profile or
a question list alone can be), so most such examples would be cut short and thrown away after
their first commands were sent, sending the first subjects twenty times as often as the rest.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import contracts.events  # noqa: F401 - imports every context's contracts
from contracts.answers import AnswerReply, Ask
from contracts.base import Accepted, Command, subject_of
from contracts.benchmark import Question
from contracts.community import CreateTemplate, EditTemplate, ImportTemplate
from contracts.dataset import (
    BuildDataset,
    BuildSpec,
    KnowledgeSource,
    ManualExample,
    Sources,
    TracesSource,
)
from contracts.expert import CreateExpert, DeleteExpert, Profile
from contracts.ingest import DOCUMENTS_BUCKET, RegisterUpload, UploadRegistered
from contracts.rules import TOKEN_PATTERN
from contracts.trainer import (
    ConfigureFinetune,
    HostedInput,
    StartFinetune,
    TrainConfig,
)
from runtime.rpc import DomainError, request
from tests.support.accounts import person
from tests.support.adapters import lora_folder
from tests.support.benchmarks import add_questions, end_all_benchmarks
from tests.support.benchmarks import start as start_bench
from tests.support.contract_strategies import contract
from tests.support.flows import built_examples, create_expert, search, upload, wait_settled
from tests.support.objects import sealed_objects
from tests.support.templates import published, template_text
from tests.support.training import end_all_runs
from tests.support.versions import import_folder
from tests.support.views import differences, snapshot
from tests.unit.test_contract_rules import every_subclass

pytestmark = pytest.mark.integration

EXAMPLES = 8  # drawn commands per command subject: about 500 commands
TENANT = "local"
POOL: dict[str, list[str]] = {
    "expert_id": [],
    "document_id": [],
    "answer_id": [],
    "dataset_id": [],
    "example_id": [],
    "adapter_id": [],
    "run_id": [],
    "question_id": [],
    "user_id": [],
    "template_id": [],
    "registry_id": [],
}
DOOMED: list[str] = []  # experts that only deletions draw
# Model servers a drawn backend may name: one that refuses at once, and none. A drawn URL
# would have the services wait on name lookups and timeouts, which is not what is tested.
SERVERS = [None, "http://127.0.0.1:9/v1"]
UPLOADED: list[str] = []
# Runs a draw may start: a step or two on the session's tiny model, trained here.
TINY_RUNS = st.builds(
    TrainConfig,
    lora_rank=st.integers(4, 8),
    batch_size=st.integers(1, 4),
    epochs=st.just(1),
    max_steps=st.integers(1, 2),
    eval_steps=st.just(1),
    max_seq_length=st.just(512),
    backend=st.sampled_from(["auto", "peft"]),
    seed=st.integers(0, 9),
)
ACCEPTED: Counter[str] = Counter()
TRIED: Counter[str] = Counter()
REFUSED: dict[str, str] = {}  # the latest refusal of each subject, to say why in a failure
CONTENT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=400)
# Templates whose front matter parses, so creating one is accepted now and then.
TEMPLATE_TEXTS = st.builds(
    template_text,
    st.from_regex(r"[A-Za-z][A-Za-z ]{0,40}", fullmatch=True),
    st.sampled_from(["1.0.0", "1.2.0", "2.0.0"]),
    body=CONTENT.filter(str.strip),
)


def command_subjects(services) -> dict[str, type]:
    found = {}
    for host in services.values():
        for subject, cls in host.endpoints.contracts.items():
            if subject.startswith("cmd.") and not subject.endswith(".rebuild_projections"):
                found[subject] = cls
    return found


def contract_commands() -> dict[str, type]:
    """Every command the contracts name with a subject of its own, found by walking the class
    tree, so a new command gets its own test; the services serve just these (checked below).
    The commands every service serves (a rebuild) have no subject of their own."""
    found = {}
    for cls in every_subclass(Command):
        try:
            found[subject_of(cls)] = cls
        except TypeError:
            continue
    return dict(sorted(found.items()))


COMMANDS = contract_commands()


def ids(field: str) -> st.SearchStrategy[str]:
    """Mostly ids that exist (so commands change something), sometimes any token."""
    fresh = st.from_regex(TOKEN_PATTERN, fullmatch=True)
    known = st.sampled_from(POOL[field])
    return st.one_of(known, known, known, known, fresh)


def command(cls: type) -> st.SearchStrategy:
    fixed = {"tenant": st.sampled_from([TENANT] * 4 + ["t-2"])}
    if "expected_version" in cls.__struct_fields__:
        fixed["expected_version"] = st.none()  # a drawn version is a conflict, tested elsewhere
    for field in POOL:
        if field in cls.__struct_fields__ and cls is not CreateExpert:
            fixed[field] = ids(field)
    if cls is DeleteExpert:  # experts of their own: the pool's stay for the other commands
        fixed["expert_id"] = st.sampled_from(DOOMED)
    if "base_url" in cls.__struct_fields__:
        fixed["base_url"] = st.sampled_from(SERVERS)
        fixed["timeout_s"] = st.just(2.0)
    if cls is BuildDataset:  # documents via the offline generator, a few: builds stay short
        knowledge = st.builds(
            KnowledgeSource, questions=st.integers(1, 5), generator=st.just("offline")
        )
        sources = st.builds(
            Sources,
            knowledge=st.none() | knowledge,
            traces=st.none() | contract(TracesSource),
            feedback=st.booleans(),
            manual=st.lists(contract(ManualExample), max_size=4),
        )
        fixed["spec"] = st.builds(BuildSpec, sources=sources, seed=st.integers(0, 9))
    if "config" in cls.__struct_fields__ and cls in (ConfigureFinetune, StartFinetune):
        fixed["config"] = TINY_RUNS if cls is ConfigureFinetune else st.none() | TINY_RUNS
    if cls is ConfigureFinetune:
        fixed["hosted"] = st.none() | st.builds(
            HostedInput,
            base_url=st.sampled_from(SERVERS[1:]),
            model=st.just("gpt-mini"),
            api_key=st.none() | st.just("sk-drawn"),
        )
    if cls in (CreateTemplate, EditTemplate):
        fixed["content"] = TEMPLATE_TEXTS
    if cls is Ask:  # the session's tiny model: short answers keep the run short
        fixed["max_tokens"] = st.integers(1, 16)
        fixed["adapter"] = st.none() | st.just("base")
        fixed["history"] = st.just([])  # long ones are refused as too long for the model
        fixed["stream_id"] = st.none()
    return contract(cls, **fixed)


async def stored_object(nc, cmd: RegisterUpload, content: str) -> RegisterUpload:
    """The upload's bytes really in the bucket, where the gateway would have put them."""
    data = content.encode("utf-8")
    name = f"{cmd.tenant}/{cmd.expert_id}/{hashlib.sha256(data).hexdigest()}"
    ref = await sealed_objects(nc).put(DOCUMENTS_BUCKET, name, data, tenant=cmd.tenant)
    return msgspec.structs.replace(cmd, object=ref)


@pytest.fixture(scope="module")
async def pools(services, nc, servers, tmp_path_factory):
    for n in range(5):
        reply = await request(
            nc, "cmd.expert.create", CreateExpert(profile=Profile(name=f"pool {n}")), Accepted
        )
        POOL["expert_id"].append(reply.id)
    for n in range(4):
        DOOMED.append(await create_expert(nc, f"doomed {n}"))
    for n in range(2):
        reg = await upload(
            nc, POOL["expert_id"][0], f"pool{n}.txt", f"Pool document {n}.".encode(), "text/plain"
        )
        POOL["document_id"].append(reg.document.id)
    for n in range(2):
        ask = Ask(expert_id=POOL["expert_id"][n], question=f"Pool question {n}?", mode="closed",
                  max_tokens=4)  # fmt: skip
        POOL["answer_id"].append((await request(nc, "cmd.expert.ask", ask, AnswerReply)).answer_id)
    for n in range(2):
        manual = [
            ManualExample(question=f"Pool question {n}.{m}?", answer="Yes.") for m in range(3)
        ]
        spec = BuildSpec(sources=Sources(manual=manual))
        cmd = BuildDataset(expert_id=POOL["expert_id"][n], spec=spec)
        accepted = await request(nc, "cmd.dataset.build", cmd, Accepted)
        POOL["dataset_id"].append(accepted.id)
        POOL["example_id"] += [e.id for e in await built_examples(nc, accepted)]
    folder = tmp_path_factory.mktemp("pool-loras")
    for n in range(2):
        lora = lora_folder(servers.base_model, folder / f"lora-{n}", seed=40 + n)
        POOL["adapter_id"].append(await import_folder(nc, POOL["expert_id"][n], lora))
    question = Question(id="pool-q", domain="pool", question="Pool?", reference="Yes.")
    for n in range(2):
        await add_questions(nc, POOL["expert_id"][n], [question])
        POOL["run_id"].append(await start_bench(nc, POOL["expert_id"][n], suite="custom"))
    POOL["question_id"].append(question.id)
    for n in range(2):
        POOL["user_id"].append((await person(nc, f"pool-{n}@simtune.test")).user_id)
    for n in range(2):  # templates, published and imported, so rating one is accepted
        view, done = await published(nc, template_text(f"Pool template {n}"))
        POOL["template_id"].append(view.id)
        POOL["registry_id"].append(done.registry_id)
        await request(nc, "cmd.community.import", ImportTemplate(registry_id=done.registry_id),
                      Accepted)  # fmt: skip
    yield POOL


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
@pytest.mark.parametrize("subject", COMMANDS)
async def test_every_accepted_command_is_projected(services, nc, pools, subject, data):
    # Every subject its own test (a drawn subject would leave some untried among fifty); what
    # Hypothesis varies is the commands themselves.
    assert subject in command_subjects(services), f"no service serves {subject}"
    await send_drawn(nc, subject, data.draw(command(COMMANDS[subject]), label=subject), data)
    for host in services.values():  # a projection that cannot apply an event never gets here
        await host.wait_caught_up(timeout=15.0)


def test_every_served_command_has_its_test(services):
    assert set(command_subjects(services)) <= set(COMMANDS)


async def send_drawn(nc, subject: str, cmd, data) -> None:
    if isinstance(cmd, RegisterUpload):
        cmd = await stored_object(nc, cmd, data.draw(CONTENT, label="content"))
    TRIED[subject] += 1
    try:
        reply = await request(nc, subject, cmd, msgspec.Raw, timeout=30.0)
    except DomainError as err:
        # 502: the model server a drawn backend names refused; that sentence is the answer.
        assert err.status < 500 or err.code == "backend_failed", f"{subject}: {err.detail}"
        REFUSED[subject] = err.detail
    else:
        ACCEPTED[subject] += 1
        if isinstance(cmd, RegisterUpload):
            UPLOADED.append(msgspec.json.decode(reply, type=UploadRegistered).document.id)


async def settled(nc, document_id: str) -> None:
    """Wait until the document is ready, rejected or gone."""
    try:
        await wait_settled(nc, document_id)
    except DomainError as err:
        assert err.code == "not_found", err.detail


async def test_after_arbitrary_commands_every_rebuilt_view_equals_the_live_one(services, nc):
    # Hypothesis's draws favour some subjects and fresh ids, and many commands need a state
    # the draws rarely compose (a version of that very expert, a build still running, a
    # finished run to rescore): with eight drawn commands for each subject, at least a quarter
    # of the subjects must have been accepted at least once. Each command has its own tests besides.
    subjects = set(command_subjects(services))
    accepted = subjects & set(ACCEPTED)
    assert len(accepted) >= 0.25 * len(subjects), f"accepted only {ACCEPTED} of {TRIED}: {REFUSED}"
    for document_id in POOL["document_id"] + UPLOADED:
        await settled(nc, document_id)
    await end_all_runs(nc, tenants=(TENANT, "t-2"))
    await end_all_benchmarks(nc, [*POOL["expert_id"], *DOOMED], tenants=(TENANT, "t-2"))
    for host in services.values():
        await host.wait_caught_up()
    for host in services.values():
        live = await snapshot(host)
        await host.rebuild()
        rebuilt = await snapshot(host)
        assert rebuilt == live, differences(live, rebuilt, host.context)


async def test_the_stack_still_works_afterwards(nc):
    expert = await create_expert(nc, "After the storm")
    reg = await upload(nc, expert, "after.txt", b"The harbour light is green.", "text/plain")
    status, _ = await wait_settled(nc, reg.document.id)
    assert status == "ready"
    hits = (await search(nc, expert, "harbour light")).results
    assert hits and "green" in hits[0].text
