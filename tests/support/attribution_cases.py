"""A small labelled set for attribution (`services.expert.answering.attribution`): passages
as three manuals might hold them (a camera, a database server, a statistics language;
written for this set), and sentences, each labelled with the passage that supports it or
with none.

Per passage: two sentences copied from it, two paraphrased from it (supported by it), and
two invented ones that reuse its vocabulary but state what no passage of the manual says
(unsupported). A prompt gives one manual's passages, numbered 1..3 as `MANUALS` lists them.
The benchmark (`benchmarks/attribution.py`) measures the thresholds on it; the unit tests
use a few of its sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.expert.answering.sources import Source

Kind = Literal["copied", "paraphrased", "invented"]

MANUALS: dict[str, tuple[str, ...]] = {
    "camera": (
        "Charging the battery. The BX-40 battery is not fully charged at shipping. Charge it "
        "in the supplied MC-12 charger before first use. A fully exhausted battery takes "
        "about two hours and thirty minutes to charge. The CHARGE lamp blinks while the "
        "battery charges and stays lit when charging is complete. If the lamp flashes "
        "quickly, the battery is faulty or the temperature is outside 5 °C to 35 °C; unplug "
        "the charger and try again later. Remove the battery from the camera when it will "
        "not be used for a month or more, and store it in a cool, dry place.",
        "Autofocus modes. In AF-S (single-servo AF) the camera focuses when the "
        "shutter-release button is pressed halfway, and focus locks while the button is "
        "held; use it for still subjects. In AF-C (continuous-servo AF) the camera keeps "
        "adjusting focus while the button is pressed halfway, for moving subjects. Select "
        "the mode by holding the AF button and rotating the main command dial. In manual "
        "focus (MF), turn the focus ring on the lens until the subject is sharp; the focus "
        "indicator in the viewfinder lights when the subject is in focus.",
        "Formatting memory cards. Format memory cards before first use and after they have "
        "been used in other devices. Press MENU, choose Format memory card in the setup "
        "menu, select the slot and press OK. Formatting permanently deletes all pictures "
        "and other data on the card, including protected pictures; copy anything you wish "
        "to keep to a computer first. Do not turn the camera off or remove the card while "
        "formatting is in progress. The camera supports SD, SDHC and SDXC cards; UHS-II "
        "cards are recommended for 4K video.",
    ),
    "database": (
        "Indexes. An index speeds up queries that filter or sort on its columns, at the cost "
        "of slower writes and extra disk space. CREATE INDEX builds a B-tree index by "
        "default; add USING hash for a hash index, which only supports equality "
        "comparisons. A multicolumn index is used most efficiently when the query "
        "constrains the leading (leftmost) columns. Building an index locks the table "
        "against writes; CREATE INDEX CONCURRENTLY avoids the lock but takes longer and "
        "cannot run inside a transaction block. Indexes that are never used can be found "
        "in the statistics views and dropped.",
        "Transactions. A transaction bundles several statements into one all-or-nothing "
        "operation: BEGIN starts it, COMMIT makes its changes visible to other sessions, "
        "and ROLLBACK discards them. The default isolation level is Read Committed, in "
        "which each statement sees only data committed before it began. Repeatable Read "
        "gives the whole transaction one snapshot; Serializable additionally fails a "
        "transaction with a serialization error if running it concurrently could differ "
        "from some serial order, and the application must retry it. Savepoints, set with "
        "SAVEPOINT, let you roll back part of a transaction without abandoning all of it.",
        "Backup and restore. The dbdump tool writes a consistent snapshot of one database "
        "as SQL or in the custom archive format, without blocking readers or writers. "
        "Restore an archive with dbrestore, which can run several jobs in parallel with "
        "the -j option. A dump does not include roles or tablespaces, which belong to the "
        "whole cluster; use dbdumpall --globals-only to save them. For point-in-time "
        "recovery, take a base backup and keep archiving the write-ahead log; the server "
        "can then be restored to any moment covered by the archived log.",
    ),
    "statistics": (
        "Vectors and assignment. The simplest data structure is the numeric vector, an "
        "ordered collection of numbers. To create a vector x of five numbers, use the "
        "function c(), which concatenates its arguments: x <- c(10.4, 5.6, 3.1, 6.4, "
        "21.7). Arithmetic on vectors is performed element by element; vectors of "
        "different lengths are recycled, the shorter one repeated until it matches the "
        "longer. The function length(x) returns the number of elements, and sum(x), "
        "mean(x) and var(x) give the total, the average and the sample variance.",
        "Linear models. The function lm() fits ordinary least-squares linear models; the "
        "model is described by a formula such as y ~ x1 + x2, read as y is modelled by x1 "
        "and x2. fitted <- lm(y ~ x, data = frame) returns a fitted-model object. "
        "summary(fitted) prints the coefficients with their standard errors, t values and "
        "p values, along with the residual standard error and R-squared. Use "
        "predict(fitted, newdata) for predictions on new data and anova() to compare "
        "nested models. An intercept is included by default; write y ~ 0 + x to remove it.",
        "Packages. All functions and datasets are stored in packages; only when a package "
        "is loaded are its contents available. install.packages(name) downloads and "
        "installs a package from a repository into the first library in .libPaths(). "
        "library(name) loads an installed package for the current session; it must be "
        "called again in each new session. update.packages() checks the repositories for "
        "newer versions of the installed packages and offers to update them. The standard "
        "packages, such as stats and graphics, are part of every installation and are "
        "loaded automatically at startup.",
    ),
}


@dataclass(frozen=True)
class Case:
    manual: str
    passage: int  # the passage (1-based, as the prompt numbers it) the sentence is about
    kind: Kind
    sentence: str

    @property
    def supported(self) -> bool:
        return self.kind != "invented"


def _cases(manual: str, passage: int, **by_kind: tuple[str, ...]) -> list[Case]:
    return [
        Case(manual, passage, kind, sentence)  # type: ignore[arg-type]
        for kind, sentences in by_kind.items()
        for sentence in sentences
    ]


CASES: list[Case] = [
    *_cases(
        "camera",
        1,
        copied=(
            "A fully exhausted battery takes about two hours and thirty minutes to charge.",
            "The CHARGE lamp blinks while the battery charges and stays lit when charging is "
            "complete.",
        ),
        paraphrased=(
            "Charging an empty battery completely takes roughly two and a half hours.",
            "If the charge lamp flashes rapidly, the battery may be defective or too hot or "
            "too cold to charge.",
        ),
        invented=(
            "The battery can be charged over USB while the camera records video.",
            "A fully charged battery lasts for about 900 shots at the default settings.",
        ),
    ),
    *_cases(
        "camera",
        2,
        copied=(
            "In AF-C (continuous-servo AF) the camera keeps adjusting focus while the button "
            "is pressed halfway, for moving subjects.",
            "Select the mode by holding the AF button and rotating the main command dial.",
        ),
        paraphrased=(
            "For subjects that do not move, use single-servo AF, which locks focus while you "
            "keep the shutter button half pressed.",
            "In manual focus you rotate the lens focus ring until the subject looks sharp, "
            "and an indicator in the viewfinder confirms it.",
        ),
        invented=(
            "The camera's autofocus works in light as dim as -4 EV with an f/2 lens.",
            "Face detection autofocus is turned on by pressing the focus ring twice.",
        ),
    ),
    *_cases(
        "camera",
        3,
        copied=(
            "Formatting permanently deletes all pictures and other data on the card, "
            "including protected pictures.",
            "Do not turn the camera off or remove the card while formatting is in progress.",
        ),
        paraphrased=(
            "To format a card, open the setup menu, pick Format memory card, choose the slot "
            "and confirm with OK.",
            "For recording 4K video, a UHS-II card is the recommended choice.",
        ),
        invented=(
            "The camera can format a memory card directly from a computer over USB.",
            "Memory cards larger than 256 GB must be formatted twice before the camera "
            "accepts them.",
        ),
    ),
    *_cases(
        "database",
        1,
        copied=(
            "A multicolumn index is used most efficiently when the query constrains the "
            "leading (leftmost) columns.",
            "CREATE INDEX builds a B-tree index by default; add USING hash for a hash index, "
            "which only supports equality comparisons.",
        ),
        paraphrased=(
            "Indexes make filtering and sorting faster, but writes get slower and they take "
            "more disk space.",
            "Creating an index concurrently avoids locking the table against writes, though "
            "it is slower and not allowed in a transaction block.",
        ),
        invented=(
            "A hash index is rebuilt automatically every night by the maintenance daemon.",
            "Indexes on text columns are compressed by default to save disk space.",
        ),
    ),
    *_cases(
        "database",
        2,
        copied=(
            "The default isolation level is Read Committed, in which each statement sees "
            "only data committed before it began.",
            "Savepoints, set with SAVEPOINT, let you roll back part of a transaction without "
            "abandoning all of it.",
        ),
        paraphrased=(
            "BEGIN opens a transaction, COMMIT makes its changes visible to other sessions, "
            "and ROLLBACK throws them away.",
            "Under Serializable isolation a transaction can fail with a serialization error, "
            "and the application has to run it again.",
        ),
        invented=(
            "Read Committed isolation stops other sessions from reading rows that a "
            "transaction has locked.",
            "Transactions that run longer than ten minutes are rolled back automatically by "
            "the server.",
        ),
    ),
    *_cases(
        "database",
        3,
        copied=(
            "Restore an archive with dbrestore, which can run several jobs in parallel with "
            "the -j option.",
            "A dump does not include roles or tablespaces, which belong to the whole "
            "cluster; use dbdumpall --globals-only to save them.",
        ),
        paraphrased=(
            "The dbdump tool takes a consistent snapshot of a single database without "
            "blocking other readers and writers.",
            "With a base backup and an archived write-ahead log, you can recover the server "
            "to any point in time the log covers.",
        ),
        invented=(
            "The dbrestore tool encrypts the archive with the cluster's master key before "
            "writing it.",
            "A dump made with dbdump can only be restored on a server of the same major version.",
        ),
    ),
    *_cases(
        "statistics",
        1,
        copied=(
            "Arithmetic on vectors is performed element by element; vectors of different "
            "lengths are recycled, the shorter one repeated until it matches the longer.",
            "The function length(x) returns the number of elements, and sum(x), mean(x) and "
            "var(x) give the total, the average and the sample variance.",
        ),
        paraphrased=(
            "You build a numeric vector with c(), which joins its arguments together, for "
            "example x <- c(10.4, 5.6, 3.1).",
            "When vectors of unequal length meet in arithmetic, the shorter is repeated to "
            "match the longer.",
        ),
        invented=(
            "Vectors can hold at most 2^31 elements, and longer ones are split automatically.",
            "The function c() sorts its arguments in increasing order before returning the vector.",
        ),
    ),
    *_cases(
        "statistics",
        2,
        copied=(
            "An intercept is included by default; write y ~ 0 + x to remove it.",
            "Use predict(fitted, newdata) for predictions on new data and anova() to compare "
            "nested models.",
        ),
        paraphrased=(
            "Calling summary() on a fitted model shows each coefficient with its standard "
            "error, t value and p value, plus the R-squared.",
            "lm() fits linear models by ordinary least squares, with the model given as a "
            "formula like y ~ x1 + x2.",
        ),
        invented=(
            "The function solve() from the lm package fits nonlinear models by maximum likelihood.",
            "lm() drops rows with missing values only when the formula has an intercept.",
        ),
    ),
    *_cases(
        "statistics",
        3,
        copied=(
            "library(name) loads an installed package for the current session; it must be "
            "called again in each new session.",
            "The standard packages, such as stats and graphics, are part of every "
            "installation and are loaded automatically at startup.",
        ),
        paraphrased=(
            "Installing a package with install.packages() puts it in the first library "
            "listed by .libPaths().",
            "update.packages() looks for newer versions of your installed packages and "
            "offers to upgrade them.",
        ),
        invented=(
            "install.packages() verifies each package's digital signature before installing it.",
            "Loading a package with library() also installs any of its missing dependencies "
            "automatically.",
        ),
    ),
]


def sources(manual: str) -> list[Source]:
    """A manual's passages as a prompt gives them, numbered 1..3."""
    return [
        Source(
            n=n,
            document_id=f"{manual}-manual",
            filename=f"{manual}.pdf",
            page=10 + n,
            chunk_id=f"{manual}-{n}",
            text=text,
        )
        for n, text in enumerate(MANUALS[manual], start=1)
    ]


def case(manual: str, passage: int, kind: Kind, index: int = 0) -> Case:
    """The `index`-th case of that manual, passage and kind."""
    found = [c for c in CASES if (c.manual, c.passage, c.kind) == (manual, passage, kind)]
    return found[index]
