"""The community registry at 10,000 templates, each figure beside a raw baseline measured in
the same run:

* **Search** (`qry.community.search`, a NATS round trip through the local role to the own
  registry's full-text search, 20 a page) for a word in one template in a hundred, a word in
  every template, and no words, sorted by each of popular, rating, newest and used; beside
  the service's own SELECT (`services/community/views.SEARCHES`) run straight on Postgres.
  The templates are appended as signed `TemplatePublished` events with the runtime's
  EventStore (publishing 10,000 one by one through the checks would take minutes), and
  timed once the projection has caught up.
* **Import** (`cmd.community.import`: download, verify the signature and digest, append the
  copy) of 50 of them, each by a person of its own, against the FR-CT's 2 s; baseline: the
  download alone (`cmd.community.registry_download`).

`python -m benchmarks community`.
"""

from __future__ import annotations

import time
import uuid

from sqlalchemy import text

from benchmarks.common import begin, embedded_stack, percentiles, print_table, record, timed_pair
from contracts.community import (
    CONTEXT,
    PUBLISHED,
    REGISTRY_TENANT,
    CommunitySearch,
    FrontMatter,
    ImportTemplate,
    RegistryDownload,
    TemplatePublished,
)
from runtime.db import make_engine
from runtime.eventstore import EventStore
from runtime.rpc import ask
from services.community import views
from services.community.checks import signing
from tests.support.inprocess import start_service
from tests.support.servers import admin_connect
from tests.support.templates import template_text

TEMPLATES = 10_000
IMPORTS = 50
CALLS, WARMUP = 30, 3
WORDS = ("harbour", "proof", "tide", "ledger", "lantern", "orbit", "glacier", "sonnet")


def templates(private: bytes, public: str):
    """Signed publications, as many as TEMPLATES: every hundredth names "kestrel"."""
    for n in range(TEMPLATES):
        word = WORDS[n % len(WORDS)]
        rare = "kestrel" if n % 100 == 0 else "plain"
        name, version = f"Template {n} {word}", "1.0.0"
        content = template_text(
            name, description=f"A {rare} way with {word}s", domain=f"domain{n % 40}",
            methodology="socratic", keywords=(word, "bench"),
        )  # fmt: skip
        registry_id = f"bench{n:05d}"
        sha = signing.content_sha256(content)
        yield TemplatePublished(
            registry_id=registry_id, version=version, sha256=sha, content=content,
            front_matter=FrontMatter(
                name=name, description=f"A {rare} way with {word}s", domain=f"domain{n % 40}",
                methodology="socratic", keywords=[word, "bench"], version=version,
            ),
            signature=signing.sign(private, registry_id, version, sha), public_key=public,
            author=f"Author {n % 300}", publisher="local",
        )  # fmt: skip


async def run() -> None:
    begin()
    async with embedded_stack() as stack:
        settings = stack.settings()
        host = await start_service(settings, CONTEXT)
        nc = await admin_connect(stack.nats_url, stack.home)
        engine = make_engine(stack.database_url)
        try:
            private, public = signing.new_keypair()
            store = EventStore(nc.jetstream())
            started = time.perf_counter()
            for event in templates(private, public):
                await store.append(
                    CONTEXT, REGISTRY_TENANT, PUBLISHED, event.registry_id, event, expected_seq=0
                )
            appended = time.perf_counter() - started
            started = time.perf_counter()
            await host.wait_caught_up(timeout=600)
            projected = time.perf_counter() - started
            rows = []
            figures: dict = {"templates": TEMPLATES, "append_s": appended, "project_s": projected}
            for label, q in (("1 in 100", "kestrel"), ("every one", "bench"), ("no words", "")):
                for sort in ("popular", "rating", "newest", "used"):

                    async def service(q=q, sort=sort):
                        return await ask(nc, CommunitySearch(q=q, sort=sort))

                    async def raw(q=q, sort=sort):
                        async with engine.connect() as conn:
                            result = await conn.execute(
                                text(str(views.SEARCHES[sort].text)),
                                {
                                    "q": q,
                                    "domain": "",
                                    "methodology": "",
                                    "author": "",
                                    "n": 20,
                                    "skip": 0,
                                },
                            )
                            return result.all()

                    def check(got, side):
                        found = len(got.items) if side == "service" else len(got)
                        assert found == 20, f"{side} found {found}"

                    timing = await timed_pair(service, raw, check, calls=CALLS, warmup=WARMUP)
                    figures[f"search {label} {sort}"] = timing
                    rows.append((f"search: {label}, {sort}", timing["service_p50_ms"],
                                 timing["service_p95_ms"], timing["raw_p50_ms"],
                                 timing["raw_p95_ms"]))  # fmt: skip
            imports, downloads = [], []
            for n in range(IMPORTS):
                tenant = f"reader{uuid.uuid4().hex[:8]}"
                registry_id = f"bench{n * 37:05d}"
                began = time.perf_counter()
                await ask(nc, RegistryDownload(tenant=tenant, registry_id=registry_id))
                downloads.append(time.perf_counter() - began)
                began = time.perf_counter()
                await ask(nc, ImportTemplate(tenant=tenant, registry_id=registry_id))
                imports.append(time.perf_counter() - began)
            assert max(imports) < 2.0, f"an import took {max(imports):.2f} s"
            figures["import"] = {"p50_ms": percentiles(imports)[0], "p95_ms": percentiles(imports)[1],
                                 "download_p50_ms": percentiles(downloads)[0]}  # fmt: skip
            rows.append(("import (verified copy)", *percentiles(imports), *percentiles(downloads)))
            print_table(
                f"Community registry at {TEMPLATES:,} templates (ms)",
                ("what", "service p50", "service p95", "raw p50", "raw p95"),
                rows,
            )
            record("community", figures)
        finally:
            await engine.dispose()
            await nc.close()
            await host.stop()
