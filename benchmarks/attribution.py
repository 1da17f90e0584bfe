"""Attribution (`services.expert.answering.attribution`): how well "supported" is decided,
over a sweep of its thresholds, on the labelled set `tests.support.attribution_cases`
(sentences copied or paraphrased from a manual's passage: supported; invented ones with the
passage's vocabulary: unsupported), with the real embedder (all-MiniLM-L6-v2 from its wheel).

For each cosine weight w and threshold t, a sentence is "supported" when
w * cosine + (1 - w) * overlap reaches t for some passage of its manual (three passages per
prompt; cosine: the best against one of the passage's sentences). Printed: precision and recall of "supported", F1, and among the supported sentences
found the share whose best passage is the right one. Baseline, same run: the rule the
scorer's groundedness uses today (cosine against the whole passage >=
`scoring.GROUNDED_SIMILARITY`).

Then, at the module's constants, through `attribute` itself: the citation a supported
sentence ends with when the model cited nothing, the right passage, or a wrong one; and the
time `attribute` takes for a five-sentence answer beside the bare `encode` of the texts it
embeds (the answer's sentences and the passages' sentences).
"""

from __future__ import annotations

import asyncio

import numpy as np

from benchmarks.common import Timer, begin, print_table, record
from services.expert.answering import attribution, scoring
from services.expert.answering.attribution import attribute, combine, similarities
from tests.support.attribution_cases import CASES, MANUALS, sources

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
THRESHOLDS = tuple(round(0.25 + 0.025 * i, 3) for i in range(27))  # 0.25 .. 0.90
TIMING_REPEATS = 5


def scored(encode) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cosine, overlap) of every case against its manual's passages (rows in CASES order),
    whether each is labelled supported, and its passage (0-based)."""
    cosine = np.zeros((len(CASES), 3))
    overlap = np.zeros((len(CASES), 3))
    for manual in MANUALS:
        rows = [i for i, c in enumerate(CASES) if c.manual == manual]
        c, o = similarities([CASES[i].sentence for i in rows], MANUALS[manual], encode)
        cosine[rows], overlap[rows] = c, o
    labels = np.array([c.supported for c in CASES])
    passages = np.array([c.passage - 1 for c in CASES])
    return cosine, overlap, labels, passages


def whole_passage_cosine(encode) -> np.ndarray:
    """Cosine of every case against each whole passage, as the scorer compares them today."""
    cosine = np.zeros((len(CASES), 3))
    for manual, passages in MANUALS.items():
        rows = [i for i, c in enumerate(CASES) if c.manual == manual]
        vectors = encode([*(CASES[i].sentence for i in rows), *passages])
        cosine[rows] = vectors[: len(rows)] @ vectors[len(rows) :].T
    return cosine


def figures(scores: np.ndarray, labels: np.ndarray, passages: np.ndarray, t: float) -> dict:
    predicted = scores.max(axis=1) >= t
    tp = int(np.count_nonzero(predicted & labels))
    precision = tp / max(int(np.count_nonzero(predicted)), 1)
    recall = tp / max(int(np.count_nonzero(labels)), 1)
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    right = predicted & labels & (scores.argmax(axis=1) == passages)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "right_passage": int(np.count_nonzero(right)) / max(tp, 1),
    }


def citation_checks(encode) -> dict:
    """Through `attribute`: supported cases ending with exactly their passage's citation when
    the model cited nothing / the right passage / a wrong one; invented ones flagged."""
    ends = {"none": 0, "right": 0, "wrong": 0}
    flagged = 0
    supported = [c for c in CASES if c.supported]
    for case in CASES:
        given = sources(case.manual)
        if not case.supported:
            (claim,) = attribute(case.sentence, given, encode)
            flagged += claim.support == "unsupported"
            continue
        wrong = case.passage % 3 + 1
        markers = (("none", ""), ("right", f" [{case.passage}]"), ("wrong", f" [{wrong}]"))
        for name, marker in markers:
            body = case.sentence.rstrip(".")
            (claim,) = attribute(f"{body}{marker}.", given, encode)
            ends[name] += claim.citations == [case.passage]
    invented = len(CASES) - len(supported)
    return {
        **{f"cited_{k}_then_right": v / len(supported) for k, v in ends.items()},
        "invented_flagged": flagged / invented,
    }


def timing(encode) -> dict:
    manual = "database"
    said = [c.sentence for c in CASES if c.manual == manual and c.kind != "invented"]
    answer = " ".join(said[:5])
    given = sources(manual)
    split = attribution.split_sentences
    texts = [*split(answer), *(s for passage in MANUALS[manual] for s in split(passage))]
    attribute(answer, given, encode)  # warm
    with Timer() as raw:
        for _ in range(TIMING_REPEATS):
            encode(texts)
    with Timer() as full:
        for _ in range(TIMING_REPEATS):
            attribute(answer, given, encode)
    return {
        "attribute_ms": full.s / TIMING_REPEATS * 1000,
        "raw_encode_ms": raw.s / TIMING_REPEATS * 1000,
    }


async def run() -> None:
    begin()
    from services.knowledge.embedder import Embedder

    embedder = await asyncio.to_thread(Embedder)
    encode = embedder.encode
    cosine, overlap, labels, passages = scored(encode)
    print(
        f"\n{len(CASES)} sentences ({int(labels.sum())} supported, {int((~labels).sum())} "
        f"invented) against {sum(len(p) for p in MANUALS.values())} passages of "
        f"{len(MANUALS)} manuals"
    )
    sweep: dict[float, dict[float, dict]] = {}
    for w in WEIGHTS:
        scores = combine(cosine, overlap, w)
        sweep[w] = {t: figures(scores, labels, passages, t) for t in THRESHOLDS}
    best_rows = []
    for w in WEIGHTS:
        t, f = max(sweep[w].items(), key=lambda item: (item[1]["f1"], item[1]["precision"]))
        best_rows.append((w, t, f["precision"], f["recall"], f["f1"], f["right_passage"]))
    print_table(
        "best threshold for each cosine weight",
        ("cosine weight", "threshold", "precision", "recall", "F1", "right passage"),
        best_rows,
    )
    chosen = attribution.COSINE_WEIGHT
    print_table(
        f"sweep at the chosen cosine weight {chosen}",
        ("threshold", "precision", "recall", "F1", "right passage"),
        [
            (t, f["precision"], f["recall"], f["f1"], f["right_passage"])
            for t, f in sweep[chosen].items()
        ],
    )
    whole = whole_passage_cosine(encode)
    baseline = figures(whole, labels, passages, scoring.GROUNDED_SIMILARITY)
    current = figures(
        combine(cosine, overlap, chosen), labels, passages, attribution.SUPPORTED_SCORE
    )
    print_table(
        "chosen constants beside the scorer's groundedness rule (baseline)",
        ("rule", "precision", "recall", "F1", "right passage"),
        [
            (
                f"attribution: w={chosen}, t={attribution.SUPPORTED_SCORE}",
                *(current[k] for k in ("precision", "recall", "f1", "right_passage")),
            ),
            (
                f"baseline: passage cosine >= {scoring.GROUNDED_SIMILARITY}",
                *(baseline[k] for k in ("precision", "recall", "f1", "right_passage")),
            ),
        ],
    )
    checks = citation_checks(encode)
    print_table("through attribute()", ("figure", "share"), list(checks.items()))
    timed = timing(encode)
    print_table("time for a five-sentence answer", ("side", "ms"), list(timed.items()))
    record(
        "attribution",
        {
            "chosen": current,
            "baseline": baseline,
            **checks,
            **timed,
            "best_per_weight": {
                str(row[0]): dict(zip(("t", "p", "r", "f1", "right"), row[1:], strict=True))
                for row in best_rows
            },
        },
    )
