"""Columns: when a vertical gutter with (almost) no ink runs down the middle of a PDF page's
text and both sides look like text columns, the left column is read before the right one.
Lines spanning the gutter (titles, full-width figures, footers) split the page into
horizontal slabs that are read top to bottom. Each side is checked once more for a further
split, so three columns usually work too."""

from __future__ import annotations

import bisect
import statistics
from itertools import accumulate

from services.ingest.parsing.boxes import Box, merge_intervals


def reading_regions(boxes: list[Box], depth: int = 0) -> list[list[Box]]:
    """Split the text runs of a page into groups in reading order (column by column)."""
    split = split_columns(boxes) if depth < 2 else None
    if split is None:
        return [boxes]
    left, right, spanning = split
    # Lines spanning the gutter cut the page into slabs; each slab is read left then right.
    bands: list[list[float]] = []  # merged [bottom, top] of spanning lines, top-down
    band_of = [0] * len(spanning)
    for i in sorted(range(len(spanning)), key=lambda i: -spanning[i].top):
        box = spanning[i]
        if bands and box.top >= bands[-1][0]:
            bands[-1][0] = min(bands[-1][0], box.bottom)
        else:
            bands.append([box.bottom, box.top])
        band_of[i] = len(bands) - 1

    # Slab i lies below i spanning bands; bucket each side's runs by slab, keeping their order.
    middles = sorted((bottom + top) / 2 for bottom, top in bands)
    slabs: list[tuple[list[Box], list[Box]]] = [([], []) for _ in range(len(bands) + 1)]
    for side, bucket in ((left, 0), (right, 1)):
        for box in side:
            above = len(middles) - bisect.bisect_right(middles, box.middle)
            slabs[above][bucket].append(box)

    # Spanning lines with no column text between them (a title and an abstract) are one region.
    regions: list[list[Box]] = []
    spanning_run: list[Box] = []
    for index, parts in enumerate(slabs):
        if any(parts):
            regions.append(spanning_run)
            spanning_run = []
            for part in parts:
                regions.extend(reading_regions(part, depth + 1))
        if index < len(bands):
            spanning_run += [
                box for box, band in zip(spanning, band_of, strict=True) if band == index
            ]
    regions.append(spanning_run)
    return [region for region in regions if region]


def split_columns(boxes: list[Box]) -> tuple[list[Box], list[Box], list[Box]] | None:
    """Find a clear gutter in the middle of the text; return (left, right, spanning) runs."""
    x0 = min(b.left for b in boxes)
    x1 = max(b.right for b in boxes)
    width = x1 - x0
    if not 100 <= width <= 15_000 or len(boxes) < 6:  # also rejects NaN from broken files
        return None
    # Ink coverage along x, in 1-point steps: each run adds its height over its width.
    steps = int(width) + 2
    delta = [0.0] * (steps + 1)
    for b in boxes:
        delta[int(b.left - x0)] += b.height
        delta[int(b.right - x0) + 1] -= b.height
    coverage = list(accumulate(delta))
    quiet = 0.15 * max(coverage)
    line_height = statistics.median(b.height for b in boxes)
    best_start, best_length, start = 0, 0, None
    for x in range(int(0.3 * width), int(0.7 * width) + 1):
        if coverage[x] <= quiet:
            start = x if start is None else start
            if x - start + 1 > best_length:
                best_start, best_length = start, x - start + 1
        else:
            start = None
    if best_length < max(3.0, 0.4 * line_height):
        return None
    gutter = x0 + best_start + best_length / 2
    left = [b for b in boxes if b.right <= gutter]
    right = [b for b in boxes if b.left >= gutter]
    spanning = [b for b in boxes if b.left < gutter < b.right]
    if not (is_text_column(left) and is_text_column(right)):
        return None
    left_top, left_bottom = max(b.top for b in left), min(b.bottom for b in left)
    right_top, right_bottom = max(b.top for b in right), min(b.bottom for b in right)
    side_by_side = min(left_top, right_top) - max(left_bottom, right_bottom)
    if side_by_side < 0.5 * min(left_top - left_bottom, right_top - right_bottom):
        return None
    return left, right, spanning


def is_text_column(boxes: list[Box]) -> bool:
    """At least three lines whose runs fill most of the column's width (not a sparse table)."""
    if len(boxes) < 3:
        return False
    column_width = max(b.right for b in boxes) - min(b.left for b in boxes)
    lines = merge_intervals((b.bottom, b.top) for b in boxes)
    if len(lines) < 3 or column_width <= 0:
        return False
    inked_height = sum(top - bottom for bottom, top in lines)
    fill = sum(b.width * b.height for b in boxes) / (column_width * inked_height)
    return fill >= 0.6
