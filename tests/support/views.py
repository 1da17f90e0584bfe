"""Every read model of every service as plain rows, to compare a live view with its rebuild."""

from __future__ import annotations

from sqlalchemy import text

TABLES = {
    "expert": [
        "SELECT tenant, id, profile::text, version, created_at, updated_at, backend::text"
        " FROM expert.experts ORDER BY 1, 2",
        "SELECT tenant, answer_id, expert_id, kind, mode, question, answer, trace::text,"
        " created_at, score, score_detail::text, rating, feedback::text, feedback_count,"
        " feedback_at FROM expert.traces ORDER BY 1, 2",
        "SELECT tenant, expert_id, adapter_id, base_model, files::text, provider_model, version"
        " FROM expert.deployments ORDER BY 1, 2",
    ],
    "ingest": ["SELECT * FROM ingest.documents ORDER BY tenant, id"],
    "dataset": ["SELECT * FROM dataset.datasets ORDER BY tenant, id"],
    "trainer": [
        "SELECT tenant, id, expert_id, number, dataset_id, backend, base_model, trigger, status,"
        " config::text, estimate::text, train_examples, step, total_steps, loss, eval_loss,"
        " learning_rate, eta_seconds, stage, attempt, resumed_from_step, history::text,"
        " adapter_id, provider_model, files::text, metrics::text, cost_usd, error, queued_at,"
        " started_at, finished_at, updated_at FROM trainer.runs ORDER BY 1, 2",
        "SELECT tenant, expert_id, config::text, hosted::text, budget_usd, last_skip,"
        " last_skip_at FROM trainer.settings ORDER BY 1, 2",
        "SELECT * FROM trainer.datasets ORDER BY tenant, id",
    ],
    "registry": [
        "SELECT tenant, id, expert_id, source, created_at, registered_at, base_model, backend,"
        " dataset_id, run_id, config::text, metrics::text, traces_used, size_bytes, sha256,"
        " files::text, provider_model, filename, tags::text, valid, problems::text, deleted_at"
        " FROM registry.adapters ORDER BY 1, 2",
        "SELECT * FROM registry.deployments ORDER BY tenant, expert_id",
        "SELECT * FROM registry.audit ORDER BY tenant, seq",
    ],
    "benchmark": [
        "SELECT * FROM benchmark.runs ORDER BY tenant, id",
        "SELECT * FROM benchmark.alerts ORDER BY tenant, seq",
        "SELECT * FROM benchmark.settings ORDER BY tenant, expert_id",
    ],
    "accounts": [
        "SELECT * FROM accounts.users ORDER BY user_id",
        "SELECT key_id, user_id, tenant, name, prefix, key_sha256, scopes::text, created_at,"
        " expires_at, revoked_at, revoked_by FROM accounts.api_keys ORDER BY key_id",
    ],
    "community": [
        "SELECT tenant, template_id, name, description, domain, version, sha256, content,"
        " front_matter::text, forked_from::text, imported_from::text, published_as::text,"
        " created_at, updated_at FROM community.templates ORDER BY 1, 2",
        "SELECT tenant, template_id, version, sha256, content, front_matter::text, created_at"
        " FROM community.template_versions ORDER BY 1, 2, 3",
        "SELECT * FROM community.applied ORDER BY tenant, expert_id",
        "SELECT tenant, registry_id, publisher, public_key, author, name, description, domain,"
        " methodology, keywords::text, keywords_text, version, sha256, published_at, updated_at,"
        " unpublished, hidden, hidden_reason, downloads, applications, rating_sum,"
        " rating_count, score, search::text FROM community.published ORDER BY registry_id",
        "SELECT tenant, registry_id, version, sha256, content, front_matter::text, signature,"
        " public_key, author, published_at FROM community.published_versions ORDER BY 2, 3",
        "SELECT * FROM community.ratings ORDER BY registry_id, by",
        "SELECT * FROM community.reviews ORDER BY registry_id, by",
        "SELECT * FROM community.cases ORDER BY case_id",
    ],
    "knowledge": [
        "SELECT * FROM knowledge.documents ORDER BY tenant, document_id",
        "SELECT tenant, chunk_id, expert_id, document_id, revision, filename, page, ord, body,"
        " embedding::text, tsv::text FROM knowledge.chunks ORDER BY tenant, chunk_id",
    ],
}


async def snapshot(host) -> list[list[tuple]]:
    async with host.engine.connect() as conn:
        return [[tuple(r) for r in await conn.execute(text(q))] for q in TABLES[host.context]]


def differences(live: list[list[tuple]], rebuilt: list[list[tuple]], context: str) -> str:
    """What a rebuild changed, table by table: the rows only the live view has and the rows
    only the rebuilt one has (empty when they agree)."""
    said = []
    for query, before, after in zip(TABLES[context], live, rebuilt, strict=True):
        gone = [row for row in before if row not in after]
        new = [row for row in after if row not in before]
        if gone or new:
            said.append(f"{query[:80]}…\n  only live: {gone[:5]}\n  only rebuilt: {new[:5]}")
    return "\n".join(said)
