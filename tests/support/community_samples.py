"""A sample of every community event, for the golden JSON test (tests/golden/community.*)."""

from __future__ import annotations

from contracts import community

CONTENT = (
    "---\nname: Socratic tutor\ndescription: Answers with questions first\n"
    "domain: mathematics\nmethodology: socratic\nkeywords: [teaching, proofs]\n"
    "version: 1.2.0\n---\n\nAsk one guiding question before you answer.\n"
)
FRONT = community.FrontMatter(
    name="Socratic tutor",
    description="Answers with questions first",
    domain="mathematics",
    methodology="socratic",
    keywords=["teaching", "proofs"],
    version="1.2.0",
)
SHA = "5e1f" * 16
SIGNATURE = "q" * 86 + "=="
PUBLIC_KEY = "Kk" * 21 + "A="
IMPORTED = community.ImportedFrom(
    registry_id="r1",
    version="1.2.0",
    registry_url="https://templates.example.org",
    signature=SIGNATURE,
    public_key=PUBLIC_KEY,
    author="Ada",
)

# What every event that carries a template's text carries: its digest, text and front matter
# (and, once published, the signature over them with the key that checks it).
BODY = {"sha256": SHA, "content": CONTENT, "front_matter": FRONT}
SIGNED_BODY = {**BODY, "signature": SIGNATURE, "public_key": PUBLIC_KEY}

COMMUNITY_SAMPLES = [
    community.TemplateCreated(template_id="t1", version="1.0.0", **BODY),
    community.TemplateEdited(
        template_id="t1",
        version="1.2.0",
        previous_version="1.0.0",
        **BODY,
    ),
    community.TemplateForked(
        template_id="t2",
        forked_from=community.ForkedFrom(template_id="t1", version="1.2.0"),
        version="1.2.0",
        **BODY,
    ),
    community.TemplateImported(
        template_id="t3",
        imported_from=IMPORTED,
        version="1.2.0",
        **BODY,
    ),
    community.TemplateShared(
        template_id="t1",
        published_as=community.PublishedAs(registry_id="r1", version="1.2.0"),
    ),
    community.TemplateDeleted(template_id="t2"),
    community.TemplateApplied(
        expert_id="e1",
        template_id="t3",
        version="1.2.0",
        previous_template_id="t1",
        registry_id="r1",
        registry_url="https://templates.example.org",
    ),
    community.TemplatePublished(
        registry_id="r1",
        version="1.0.0",
        **SIGNED_BODY,
        author="Ada",
        publisher="local",
    ),
    community.TemplateVersionPublished(
        registry_id="r1",
        version="1.2.0",
        previous_version="1.0.0",
        **SIGNED_BODY,
        author="",
        publisher="local",
    ),
    community.TemplateUnpublished(registry_id="r1", by="local"),
    community.TemplateDownloaded(registry_id="r1", version="1.2.0", by="u2"),
    community.TemplateRated(registry_id="r1", by="u2", stars=4, previous=5),
    community.TemplateReviewed(registry_id="r1", by="u2", text="Clear and short.\nWorks well."),
    community.TemplateReported(registry_id="r1", case_id="c1", by="u2", reason="It holds a URL"),
    community.TemplateHidden(
        registry_id="r1", case_id="c1", reason="asks to ignore instructions", by="owner@x.org"
    ),
    community.TemplateRestored(registry_id="r1", reason="fixed in 1.2.1", by="owner@x.org"),
    community.ReportDismissed(
        registry_id="r1", case_id="c2", reason="not a problem", by="owner@x.org"
    ),
]
