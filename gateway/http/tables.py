"""Tables as CSV for a spreadsheet (the audit trail, the benchmark export): a header row,
then one row a line, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


def inert(cell: str) -> str:
    """A text cell, starting with `'` when a spreadsheet would run it as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_START) else cell


def as_csv(header: list[str], rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
