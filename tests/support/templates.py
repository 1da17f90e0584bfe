"""Templates for tests: Markdown with the front matter every template has, and the community
service's messages sent as a person would (over NATS, for a tenant)."""

from __future__ import annotations

import uuid

from contracts.community import CreateTemplate, GetTemplate, PublishTemplate
from runtime.rpc import ask


def template_text(
    name: str,
    version: str = "1.0.0",
    *,
    description: str = "Answers with a guiding question first",
    domain: str = "teaching",
    methodology: str = "socratic",
    keywords: tuple[str, ...] = ("questions",),
    body: str = "Ask one guiding question before you answer.\nThen answer in three steps.",
) -> str:
    return (
        f"---\nname: {name}\ndescription: {description}\ndomain: {domain}\n"
        f"methodology: {methodology}\nkeywords: [{', '.join(keywords)}]\nversion: {version}\n"
        f"---\n\n{body}\n"
    )


def unique(prefix: str = "w") -> str:
    """A word no other test's template holds."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def created(nc, content: str, tenant: str = "local"):
    """A new template, and its view once the read model shows it."""
    accepted = await ask(nc, CreateTemplate(tenant=tenant, content=content))
    return await ask(
        nc, GetTemplate(tenant=tenant, template_id=accepted.id, after_seq=accepted.seq)
    )


async def published(nc, content: str, tenant: str = "local", author: str = ""):
    """A template written and published to the install's own registry: (view, Published)."""
    view = await created(nc, content, tenant)
    done = await ask(nc, PublishTemplate(tenant=tenant, template_id=view.id, author=author))
    return view, done
