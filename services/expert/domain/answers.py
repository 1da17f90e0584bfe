"""The Answer aggregate: given once, scored by each scorer version, rated and edited by a
person any number of times (the latest feedback is current). Pure decide/evolve, no I/O."""

from __future__ import annotations

import msgspec

from contracts.answers import AnswerGiven, AnswerScored, FeedbackGiven, GiveFeedback
from contracts.base import DomainError, ErrorCode


class AnswerState(msgspec.Struct, frozen=True):
    exists: bool = False
    expert_id: str = ""
    answer: str = ""
    scored_by: tuple[str, ...] = ()  # scorer versions that scored it
    feedback: int = 0  # feedback events so far


INITIAL = AnswerState()


def evolve(state: AnswerState, event: object) -> AnswerState:
    match event:
        case AnswerGiven(expert_id=expert_id, answer=answer):
            return AnswerState(exists=True, expert_id=expert_id, answer=answer)
        case AnswerScored(scorer_version=version):
            return msgspec.structs.replace(state, scored_by=(*state.scored_by, version))
        case FeedbackGiven():
            return msgspec.structs.replace(state, feedback=state.feedback + 1)
    return state


def decide_given(state: AnswerState, event: AnswerGiven) -> AnswerGiven:
    if state.exists:
        raise DomainError(ErrorCode.CONFLICT, f"answer {event.answer_id} already exists")
    return event


def decide_feedback(state: AnswerState, cmd: GiveFeedback) -> FeedbackGiven:
    if not state.exists:
        raise DomainError(ErrorCode.NOT_FOUND, f"answer {cmd.answer_id} was not found")
    edited = cmd.edited_answer
    if edited is not None and (not edited.strip() or edited == state.answer):
        edited = None  # an unchanged or emptied edit is no edit
    return FeedbackGiven(
        answer_id=cmd.answer_id,
        expert_id=state.expert_id,
        rating=cmd.rating,
        edited_answer=edited,
        tags=sorted({t.strip() for t in cmd.tags if t.strip()}),
        comment=cmd.comment.strip(),
    )


def decide_score(state: AnswerState, scored: AnswerScored) -> AnswerScored | None:
    """A score is recorded once per scorer version (a redelivered scoring adds nothing)."""
    if not state.exists or scored.scorer_version in state.scored_by:
        return None
    return scored
