"""An answer's card (its score, and the person's rating, edit, tags and comment) and the
traces page listing every answer of an expert.

The card is one fragment, `partials/answer_card.html`, used on the chat page (loaded once
an answer is done), the traces page and after feedback (htmx swaps the new card in place).
The scorer works in the background, so an unscored card polls its score fragment every
second until the score is there (and gives up after a while, saying so).
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from contracts.answers import GetAnswer, GiveFeedback, ListTraces, TraceView
from contracts.base import DomainError, ErrorCode
from contracts.expert import GetExpert
from gateway.backend import Backend
from gateway.expert.answers.views import MODES, shown
from gateway.http.pages import FORM, is_htmx

PAGE_SIZE = 20
SCORE_POLLS = 60  # one a second: a minute, then the card stops asking
RATINGS = (1, 2, 3, 4, 5)
NO_RATING = "Choose a rating from 1 to 5 stars."


class FeedbackForm(msgspec.Struct, kw_only=True):
    rating: str = ""
    edited_answer: str = ""
    tags: str = ""  # comma-separated
    comment: str = ""

    def command(self, answer_id: str, original: str) -> GiveFeedback:
        if not self.rating.strip().isdigit():
            raise DomainError(ErrorCode.INVALID, NO_RATING)
        edited = self.edited_answer.replace("\r\n", "\n").strip()
        tags = list(dict.fromkeys(t.strip() for t in self.tags.split(",") if t.strip()))
        return GiveFeedback(
            answer_id=answer_id,
            rating=int(self.rating),
            edited_answer=edited if edited and edited != original.strip() else None,
            tags=tags,
            comment=self.comment.strip(),
        )


def card(
    trace: TraceView,
    *,
    error: str | None = None,
    form: FeedbackForm | None = None,
    status: int = 200,
) -> Template:
    context = {"card": shown(trace), "error": error, "form": form, "ratings": RATINGS}
    return Template("partials/answer_card.html", context=context, status_code=status)


class TraceFilters(msgspec.Struct, kw_only=True):
    """The traces page's filter form, as typed (every field may be empty)."""

    mode: str = ""  # "", a mode, or "draft"
    rated: str = ""  # "", "yes" or "no"
    min_score: str = ""
    max_score: str = ""

    def query(self, expert_id: str, after: str | None) -> ListTraces:
        kind = "draft" if self.mode == "draft" else ("answer" if self.mode else None)
        mode = self.mode if self.mode in {m.value for m in MODES} else None
        return ListTraces(
            expert_id=expert_id,
            mode=mode,
            kind=kind,
            rated={"yes": True, "no": False}.get(self.rated),
            min_score=score_bound("lowest score", self.min_score),
            max_score=score_bound("highest score", self.max_score),
            limit=PAGE_SIZE,
            after=after or None,
        )

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for the "Older answers" link)."""
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v}


def score_bound(name: str, text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 10:
        raise DomainError(ErrorCode.INVALID, f"The {name} must be a number from 0 to 10.")
    return value


class AnswerPages(Controller):
    include_in_schema = False

    @get("/ui/answers/{answer_id:str}/card")
    async def answer_card(
        self, answer_id: str, backend: Backend, after_seq: int = Parameter(default=0, ge=0)
    ) -> Template:
        """`after_seq`: the `seq` of a just-finished answer, so its card is there to show."""
        return card(await backend.ask(GetAnswer(answer_id=answer_id, after_seq=after_seq)))

    @get("/ui/answers/{answer_id:str}/score")
    async def answer_score(
        self, answer_id: str, backend: Backend, polls: int = Parameter(default=0, ge=0)
    ) -> Template:
        trace = await backend.ask(GetAnswer(answer_id=answer_id))
        context = {"card": shown(trace), "polls": polls + 1}
        context["gave_up"] = polls + 1 >= SCORE_POLLS
        return Template("partials/answer_score.html", context=context)

    @post("/ui/answers/{answer_id:str}/feedback")
    async def feedback(
        self,
        request: Request,
        answer_id: str,
        backend: Backend,
        data: FeedbackForm = FORM,
    ) -> Response:
        trace = await backend.ask(GetAnswer(answer_id=answer_id))
        try:
            cmd = data.command(answer_id, trace.answer)
            trace = await backend.send(cmd, then=GetAnswer(answer_id=answer_id))
        except DomainError as exc:
            if exc.status != 400 or not is_htmx(request):
                raise
            return card(trace, error=exc.detail, form=data, status=400)
        if is_htmx(request):
            return card(trace)
        return Redirect(f"/experts/{trace.expert_id}/traces#answer-{answer_id}", status_code=303)

    @get("/experts/{expert_id:str}/traces")
    async def traces(
        self,
        expert_id: str,
        backend: Backend,
        mode: str = Parameter(default="", max_length=20),
        rated: str = Parameter(default="", max_length=5),
        min_score: str = Parameter(default="", max_length=20),
        max_score: str = Parameter(default="", max_length=20),
        after: str = Parameter(default="", max_length=100),
    ) -> Template:
        expert = await backend.ask(GetExpert(expert_id=expert_id))
        filters = TraceFilters(mode=mode, rated=rated, min_score=min_score, max_score=max_score)
        context = {
            "expert": expert,
            "filters": filters,
            "modes": MODES,
            "ratings": RATINGS,
            "first_params": filters.params(),
            "later": bool(after),
        }
        try:
            page = await backend.ask(filters.query(expert_id, after))
        except DomainError as exc:
            if exc.status != 400:
                raise
            context |= {"rows": [], "next_params": None, "error": exc.detail}
            return Template("traces.html", context=context, status_code=400)
        next_params = {**filters.params(), "after": page.next} if page.next else None
        context |= {"rows": [shown(t) for t in page.traces], "next_params": next_params}
        return Template("traces.html", context=context)


ROUTES = [AnswerPages]
