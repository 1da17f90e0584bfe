"""Answers, drafts and feedback (the expert context's `answer` aggregate), the expert's model
backend, and the frames that stream an answer while it is written.

Every answer is a trace: `AnswerGiven` carries everything needed to read it later without
the knowledge base (the passages given, as text), `AnswerScored` the automatic scorer's
verdict (re-runnable: a newer scorer version appends a newer score), `FeedbackGiven` a
person's rating and edit (the latest is current, the log keeps the history).
"""

from contracts.answers.events import *  # noqa: F403
from contracts.answers.messages import *  # noqa: F403
from contracts.answers.replies import *  # noqa: F403
from contracts.answers.values import *  # noqa: F403
