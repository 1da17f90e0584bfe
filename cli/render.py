"""How the CLI shows things, the pieces every group draws with: the console, statuses in
colour, times and losses in words, a grid of labelled values and a titled table. Text a
person or a document wrote is always a `Text`, never read as Rich markup."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

import typer
from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

console = Console(highlight=False)

# A document's, a dataset's and a run's statuses: waiting is yellow, working cyan, done green.
STATUS_STYLE = {
    "uploaded": "yellow",
    "parsing": "yellow",
    "embedding": "yellow",
    "building": "yellow",
    "queued": "yellow",
    "running": "cyan",
    "ready": "green",
    "succeeded": "green",
    "rejected": "red",
    "failed": "red",
    "cancelled": "red",
}
NONE = "–"


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def when(stamp: str | None) -> str:
    """An ISO time to the minute, as every table shows times."""
    return stamp[:16].replace("T", " ") if stamp else NONE


def loss(value: float | None) -> str:
    return NONE if value is None else f"{value:.4f}"


def say(text: str, style: str = "") -> None:
    """One line to the person, printed as written (never as markup)."""
    console.print(Text(text, style=style))


def printed_json(value: object, wanted: bool) -> bool:
    """`value` as indented JSON on stdout when `--json` was `wanted`, for scripts (plain
    text, never through Rich): how every `--json` prints. True when it was printed, so that
    the command stops there."""
    if wanted:
        typer.echo(json.dumps(value, indent=2))
    return wanted


def print_one(value: object, draw: Callable[..., RenderableType], as_json: bool) -> None:
    """One thing: as JSON with `--json`, else as `draw` shows it."""
    if not printed_json(value, as_json):
        console.print(draw(value))


def details(rows: Iterable[tuple[str, str | Text]]) -> Table:
    """Label and value, one pair a line, the labels in bold: how one thing is shown."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, value if isinstance(value, Text) else Text(str(value)))
    return grid


def table(
    title: str, columns: Sequence[str], no_wrap: Iterable[str] = (), right: Iterable[str] = ()
) -> Table:
    """A titled table with these columns; `no_wrap` ones stay on one line, `right` ones (numbers)
    are aligned right."""
    keep, numbers = set(no_wrap), set(right)
    drawn = Table(title=title, title_justify="left")
    for name in columns:
        drawn.add_column(name, no_wrap=name in keep, justify="right" if name in numbers else "left")
    return drawn


def print_list(
    items: list,
    draw: Callable[..., RenderableType],
    empty: str,
    title: str | None = None,
    as_json: bool = False,
) -> None:
    """The items as `draw` shows them (under `title`, where there is one), or the sentence
    `empty` saying there are none and what to do about it; with `--json`, as JSON."""
    if printed_json(items, as_json):
        return
    if not items:
        say(empty)
        return
    console.print(draw(items) if title is None else draw(items, title))


def progress_bars(*columns: ProgressColumn, transient: bool = True) -> Progress:
    """A spinner, what is going on and a bar, then `columns`: how every follow looks. The
    bars go away at the end (the outcome is printed instead) unless `transient` is False."""
    lead = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn())
    return Progress(*lead, *columns, console=console, transient=transient)
