"""Every reason a document is rejected for, beyond parsing's, is one plain sentence that
says what happened and what to do, with the limit that was reached."""

import re

import pytest

from services.ingest import reasons
from services.ingest.sandbox import Limits, ReaderCrashed, TooComplex
from services.knowledge import reactors as knowledge

LIMITS = Limits(max_pages=10, chunk_size=400, chunk_overlap=60, memory_bytes=256 << 20, timeout_s=1)
SLOW = Limits(max_pages=10, chunk_size=400, chunk_overlap=60, memory_bytes=1 << 30, timeout_s=300)

ALL = {
    "missing": reasons.missing()[1],
    "damaged": reasons.damaged()[1],
    "memory": reasons.too_complex(TooComplex("memory", LIMITS))[1],
    "time": reasons.too_complex(TooComplex("time", LIMITS))[1],
    "slow": reasons.too_complex(TooComplex("time", SLOW))[1],
    "crashed": reasons.gave_up(ReaderCrashed(-6, ""), 5, 256 << 20)[1],
    "failed": reasons.gave_up(RuntimeError("boom"), 5, 256 << 20)[1],
    "index passages": knowledge.PASSAGES_UNREADABLE,
    "index failed": knowledge.gave_up(5),
}


@pytest.mark.parametrize("reason", ALL.values(), ids=ALL.keys())
def test_a_reason_is_one_sentence_with_something_to_do(reason):
    assert reason[0].isupper() and reason.endswith(".")
    assert not re.search(r"[.!?] [A-Z]", reason)  # no second sentence
    assert re.search(r"\b(upload|split|delete|save)\b", reason)
    assert "Error" not in reason and "exit code" not in reason and "/" not in reason


def test_reasons_name_the_limit_that_was_reached():
    assert "(256 MB)" in ALL["memory"] and "(256 MB)" in ALL["crashed"]
    assert "(1 second)" in ALL["time"] and "(5 minutes)" in ALL["slow"]
    assert "5 times" in ALL["crashed"] and "5 times" in ALL["failed"]


def test_codes():
    assert reasons.too_complex(TooComplex("time", LIMITS))[0] == "too_complex"
    assert reasons.gave_up(ReaderCrashed(-9, ""), 3, 1 << 30)[0] == "too_complex"
    assert reasons.gave_up(ValueError(), 3, 1 << 30)[0] == "failed"
    assert (reasons.missing()[0], reasons.damaged()[0]) == ("missing", "damaged")
