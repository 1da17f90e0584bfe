"""The checks a template passes before it is kept, published or imported, as the service's
refusals: a broken front matter names its line, personal data names each line and pattern,
and unusual patterns become the warnings shown before an import.

The checks themselves are pure and live in `checks/`; this turns what they find into
`DomainError`s and contracts.
"""

from __future__ import annotations

from contracts.base import DomainError, ErrorCode
from contracts.community import FrontMatter, TemplateWarning
from services.community.checks import front_matter, pii, unusual
from services.community.checks.signing import content_sha256


def parsed(content: str) -> tuple[FrontMatter, str]:
    """The template's front matter and its sha256; 400 naming the line when the front matter
    is broken, or when nothing follows it."""
    try:
        meta, body = front_matter.parse(content)
    except front_matter.TemplateInvalid as exc:
        raise DomainError(ErrorCode.INVALID, f"line {exc.line}: {exc.message}") from exc
    if not body.strip():
        raise DomainError(
            ErrorCode.INVALID,
            "the template has nothing below its front matter: write the instructions it gives",
        )
    return meta, content_sha256(content)


def refuse_personal_data(content: str, what: str) -> None:
    """Nothing that looks like personal data leaves this machine: each finding is named by
    its line and pattern (its text masked), so the person can find and remove it."""
    findings = pii.find_pii(content)
    if findings:
        listed = "; ".join(f.sentence() for f in findings)
        raise DomainError(
            ErrorCode.INVALID,
            f"{what} was not published: it holds what looks like personal data — {listed}",
        )


def warnings(content: str) -> list[TemplateWarning]:
    """What a person should look at before trusting the template (shown before an import)."""
    return [
        TemplateWarning(line=f.line, pattern=f.pattern, excerpt=f.excerpt_masked)
        for f in unusual.find_unusual(content)
    ]
