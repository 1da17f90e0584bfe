"""The geometry of a PDF page's text runs: rectangles in PDF units (y grows upwards) and how
two of them stand to each other."""

from __future__ import annotations

from typing import NamedTuple


class Box(NamedTuple):
    """A rectangle in PDF units; y grows upwards."""

    left: float
    bottom: float
    right: float
    top: float

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def same_line(a: Box, b: Box) -> bool:
    overlap = min(a.top, b.top) - max(a.bottom, b.bottom)
    return overlap >= 0.5 * min(a.height, b.height)


def overlap(a: Box, b: Box) -> bool:
    return (
        min(a.right, b.right) - max(a.left, b.left) > 0.5
        and min(a.top, b.top) - max(a.bottom, b.bottom) > 0.5
    )


def union(a: Box, b: Box) -> Box:
    return Box(
        min(a.left, b.left), min(a.bottom, b.bottom), max(a.right, b.right), max(a.top, b.top)
    )


def any_overlap(boxes: list[Box]) -> bool:
    ordered = sorted(boxes, key=lambda box: -box.top)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.top - a.bottom <= 0.5:
                break  # b and all boxes after it lie below a
            if overlap(a, b):
                return True
    return False


def merge_intervals(intervals) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]
