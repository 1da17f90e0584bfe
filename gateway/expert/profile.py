"""Editing an expert's profile: who it is, what it is for, how it writes (the style guide),
what it will not talk about, and whether its answers open with quotes from the documents.

Lists are textareas with one item per line. The form carries the version it was read at,
so a save over someone else's newer change is refused (409) instead of undoing it.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get, post
from litestar.response import Redirect, Template

from contracts.base import DomainError, ErrorCode
from contracts.expert import ExpertView, GetExpert, ProfilePatch, StyleGuide, UpdateExpert
from gateway.backend import Backend
from gateway.http.pages import FORM, lines

QUOTE_CHOICES = ("auto", "always", "never")
CHANGED_ELSEWHERE = (
    "Someone else changed this expert while you were editing. Reload the page to see "
    "their changes, then make yours again."
)


class ProfileForm(msgspec.Struct, kw_only=True):
    name: str = ""
    domain: str = ""
    description: str = ""
    goals: str = ""
    influences: str = ""
    tone: str = ""
    vocabulary: str = ""
    sentence_length: str = ""
    do: str = ""
    dont: str = ""
    banned_topics: str = ""
    quote_sources: str = "auto"
    version: str = ""

    @classmethod
    def of(cls, expert: ExpertView) -> ProfileForm:
        style = expert.style_guide
        return cls(
            name=expert.name,
            domain=expert.domain,
            description=expert.description,
            goals="\n".join(expert.goals),
            influences="\n".join(expert.influences),
            tone=style.tone or "",
            vocabulary=style.vocabulary or "",
            sentence_length=style.sentence_length or "",
            do="\n".join(style.do),
            dont="\n".join(style.dont),
            banned_topics="\n".join(expert.banned_topics),
            quote_sources=expert.quote_sources,
            version=str(expert.version),
        )

    def patch(self) -> ProfilePatch:
        if self.quote_sources not in QUOTE_CHOICES:
            raise DomainError(
                ErrorCode.INVALID,
                "Choose when answers quote your documents: auto, always or never.",
            )
        return ProfilePatch(
            name=self.name.strip(),
            domain=self.domain.strip(),
            description=self.description.replace("\r\n", "\n").strip(),
            goals=lines(self.goals),
            influences=lines(self.influences),
            style_guide=StyleGuide(
                tone=self.tone.strip() or None,
                vocabulary=self.vocabulary.replace("\r\n", "\n").strip() or None,
                sentence_length=self.sentence_length.strip() or None,
                do=lines(self.do),
                dont=lines(self.dont),
            ),
            banned_topics=lines(self.banned_topics),
            quote_sources=self.quote_sources,
        )

    def expected_version(self) -> int | None:
        return int(self.version) if self.version.strip().isdigit() else None


class ProfilePages(Controller):
    include_in_schema = False

    @get("/experts/{expert_id:str}/edit")
    async def edit(self, expert_id: str, backend: Backend) -> Template:
        expert = await backend.ask(GetExpert(expert_id=expert_id))
        context = {"expert": expert, "form": ProfileForm.of(expert)}
        return Template("profile_edit.html", context=context)

    @post("/ui/experts/{expert_id:str}/edit")
    async def save(
        self,
        expert_id: str,
        backend: Backend,
        data: ProfileForm = FORM,
    ) -> Response:
        try:
            cmd = UpdateExpert(
                expert_id=expert_id, changes=data.patch(), expected_version=data.expected_version()
            )
            await backend.send(cmd, then=GetExpert(expert_id=expert_id))
        except DomainError as exc:
            if exc.status not in (400, 409):
                raise
            expert = await backend.ask(GetExpert(expert_id=expert_id))
            error = CHANGED_ELSEWHERE if exc.status == 409 else exc.detail
            context = {"expert": expert, "form": data, "error": error}
            return Template("profile_edit.html", context=context, status_code=exc.status)
        return Redirect(f"/experts/{expert_id}", status_code=303)


ROUTES = [ProfilePages]
