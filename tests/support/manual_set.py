"""Page-labelled questions over two software manuals built here as real PDFs (issue 19).

Retrieval is judged by whether the page that answers a question comes first. Real manuals
make that hard in known ways, and these two copy them on purpose:

* front matter: a title page, a licence page of boilerplate, a contents page whose every line
  is a heading, dot leaders and a page number (so it shares words with every chapter);
* an index at the end that lists the manual's vocabulary with page numbers;
* the same words on many pages (source, snapshot, schedule, retention, credentials ...), a
  glossary that restates terms, options tables, and running headers and footers;
* numbered headings ("4.7 Incremental runs") above definitions, procedures and caveats.

``MANUAL`` (``tallyctl``, a command-line data tool, about 40 pages) and ``SECOND`` (a backup
agent, 12 pages, with overlapping vocabulary) are :class:`Manual` objects. Every question
names its document, the 1-based PDF page that answers it, a short reference answer and the
key sentence printed on that page. A question's page is not typed in by hand: it is the one
page whose text holds the key sentence (checked when this module is imported), so editing a
page can never leave a label pointing at the wrong page. Questions the manuals do not answer
have ``page=None``. Questions are phrased as a person would ask, mostly in other words than
the page uses.

The PDFs are deterministic: the same bytes on every call (fixed creation date).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from fpdf import FPDF

# ---- the page model -------------------------------------------------------------------------

H1, H2, P, TABLE, CODE = "h1", "h2", "p", "table", "code"
Block = tuple  # (kind, payload): H1/H2/P/CODE with a str, TABLE with a list of row tuples


@dataclass(frozen=True)
class Question:
    """A question a person asks, and where in which manual the answer is printed."""

    question: str
    page: int | None  # 1-based PDF page; None: the manual does not answer it
    reference: str  # a short correct answer
    key_sentence: str  # the sentence on `page` that answers it ("" when page is None)
    document: str  # the manual's filename


@dataclass(frozen=True)
class Manual:
    filename: str
    title: str
    build: Callable[[], bytes]
    page_texts: tuple[str, ...]  # the text drawn on each page (for checks), 1-based by index+1
    questions: tuple[Question, ...]


# ---- rendering -------------------------------------------------------------------------------

_LEFT, _TOP, _BOTTOM, _PITCH, _WRAP = 18.0, 24.0, 278.0, 5.0, 92
_CREATED = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _table_lines(rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Rows wrapped so the last column fits; other columns are short."""
    out: list[tuple[str, ...]] = []
    for row in rows:
        *firsts, last = row
        wrapped = textwrap.wrap(last, 58 if len(row) == 2 else 44) or [""]
        out.append((*firsts, wrapped[0]))
        out.extend(tuple("" for _ in firsts) + (more,) for more in wrapped[1:])
    return out


def _render(pages: list[list[Block]], header: str, title_pages: int = 1) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(_CREATED)
    pdf.set_title(header)
    for number, blocks in enumerate(pages, start=1):
        pdf.add_page()
        if number > title_pages:
            pdf.set_font("Helvetica", size=8)
            pdf.text(_LEFT, 12, header)
            pdf.text(180, 290, f"Page {number}")
        y = _TOP
        for kind, payload in blocks:
            y = _draw_block(pdf, kind, payload, y)
            if y > _BOTTOM + _PITCH:
                raise ValueError(f"page {number} of {header!r} overflows")
    return bytes(pdf.output())


def _draw_block(pdf: FPDF, kind: str, payload, y: float) -> float:
    if kind == H1:
        pdf.set_font("Helvetica", "B", 16)
        y += 4
        pdf.text(_LEFT, y, payload)
        return y + 11
    if kind == H2:
        pdf.set_font("Helvetica", "B", 12)
        y += 2
        pdf.text(_LEFT, y, payload)
        return y + 8
    if kind == CODE:
        pdf.set_font("Courier", size=9)
        for line in payload.split("\n"):
            pdf.text(_LEFT + 6, y, line)
            y += _PITCH
        return y + _PITCH
    if kind == TABLE:
        pdf.set_font("Helvetica", size=9)
        widths = (0, 48) if len(payload[0]) == 2 else (0, 38, 70)
        for i, row in enumerate(_table_lines(payload)):
            pdf.set_font("Helvetica", "B" if i == 0 else "", 9)
            for x, cell in zip(widths, row, strict=True):
                if cell:
                    pdf.text(_LEFT + x, y, cell)
            y += _PITCH
        return y + _PITCH
    if kind == "raw":  # pre-formatted lines (contents, index), one text run each
        pdf.set_font("Helvetica", size=10)
        for line in payload:
            if line:
                pdf.text(_LEFT, y, line)
            y += _PITCH
        return y
    if kind == "title":
        pdf.set_font("Helvetica", "B", 26)
        pdf.text(_LEFT, 90, payload[0])
        pdf.set_font("Helvetica", size=14)
        for i, line in enumerate(payload[1:]):
            pdf.text(_LEFT, 108 + 9 * i, line)
        return y
    pdf.set_font("Helvetica", size=10)
    for line in textwrap.wrap(payload, _WRAP, break_on_hyphens=False):
        pdf.text(_LEFT, y, line)
        y += _PITCH
    return y + _PITCH


def _plain(blocks: list[Block]) -> str:
    """The words a page shows, in order, for finding key sentences and building the index."""
    parts: list[str] = []
    for kind, payload in blocks:
        if kind == TABLE:
            parts.extend(" ".join(row) for row in payload)
        elif kind in ("raw", "title"):
            parts.extend(payload)
        else:
            parts.append(payload)
    return " ".join(" ".join(parts).split())


def _contents(body: list[list[Block]], first_page: int, width: int = 86) -> list[str]:
    """Contents lines with dot leaders: every H1 and H2 heading and the page it starts on."""
    lines = []
    for offset, blocks in enumerate(body):
        for kind, payload in blocks:
            if kind in (H1, H2):
                indent = "" if kind == H1 else "    "
                label, number = indent + payload, str(first_page + offset)
                lines.append(f"{label} {'.' * max(3, width - len(label) - len(number))} {number}")
    return lines


def _index(body_texts: list[str], first_page: int, terms: list[str]) -> list[str]:
    """Index lines: each term with the pages (at most six) whose text mentions it."""
    lines = []
    for term in sorted(terms, key=str.lower):
        pages = [
            str(first_page + i) for i, text in enumerate(body_texts) if term.lower() in text.lower()
        ]
        if pages:
            lines.append(f"{term}, {', '.join(pages[:6])}")
    return lines


_PER_PAGE = 46  # contents or index lines on one page


def _continued(title: str, lines: list[str]) -> list[list[Block]]:
    """Pages of pre-formatted lines under a heading, "(continued)" after the first."""
    return [
        [(H1, title if i == 0 else f"{title} (continued)"), ("raw", lines[i : i + _PER_PAGE])]
        for i in range(0, len(lines), _PER_PAGE)
    ]


def _assemble(
    title: list[str], front: list[list[Block]], body: list[list[Block]], index_terms: list[str]
) -> tuple[list[list[Block]], list[str]]:
    """Title, front matter, contents, body, index; with every page's plain text."""
    headings = len(_contents(body, 0))
    contents_pages = -(-headings // _PER_PAGE)
    first_body = 1 + len(front) + contents_pages + 1  # title, front matter, contents, body
    contents = _contents(body, first_body)
    body_texts = [_plain(blocks) for blocks in body]
    index = _index(body_texts, first_body, index_terms)
    pages: list[list[Block]] = [
        [("title", title)],
        *front,
        *_continued("Contents", contents),
        *body,
        *_continued("Index", index),
    ]
    return pages, [_plain(blocks) for blocks in pages]


def _label(
    document: str, texts: list[str], rows: list[tuple[str, str, str]]
) -> tuple[Question, ...]:
    """Questions from (question, reference, key sentence); the page is where the key is."""
    out = []
    for question, reference, key in rows:
        if not key:
            out.append(Question(question, None, reference, "", document))
            continue
        found = [n for n, text in enumerate(texts, start=1) if " ".join(key.split()) in text]
        if len(found) != 1:
            raise ValueError(f"key sentence of {question!r} is on pages {found}, not on one")
        out.append(Question(question, found[0], reference, key, document))
    return tuple(out)


# ---- manual 1: tallyctl, a command-line data tool --------------------------------------------

FILENAME = "tallyctl-user-guide.pdf"
_T_HEADER = "tallyctl 4.2 User Guide"

_T_LICENCE: list[Block] = [
    (H1, "Legal notice"),
    (
        P,
        "Copyright (c) 2019-2026 Brackwater Labs Ltd. All rights reserved. tallyctl and the "
        "Brackwater logo are trademarks of Brackwater Labs Ltd. Other names may be trademarks "
        "of their respective owners.",
    ),
    (
        P,
        "The tallyctl software is licensed under the Apache License, Version 2.0 (the "
        '"License"); you may not use this software except in compliance with the License. '
        "Unless required by applicable law or agreed to in writing, software distributed under "
        'the License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF '
        "ANY KIND, either express or implied. See the License for the specific language "
        "governing permissions and limitations under the License.",
    ),
    (
        P,
        "This guide is provided for information only and may change without notice. Brackwater "
        "Labs makes no warranty of any kind with regard to this guide, including but not "
        "limited to the implied warranties of merchantability and fitness for a particular "
        "purpose. Brackwater Labs shall not be liable for errors contained herein or for "
        "incidental or consequential damages in connection with the furnishing, performance "
        "or use of this guide, its sources, pipelines, snapshots or any data written by them.",
    ),
    (
        P,
        "Third-party components: tallyctl includes the Apache Arrow libraries, zstd, the "
        "PostgreSQL client library and the TOML parser tomli, each under its own licence. "
        "The full licence texts are installed with the software in the licences folder and "
        "can be printed with tallyctl version --licences.",
    ),
    (
        P,
        "Document revision 4.2.0, published January 2026. Comments on this guide are welcome "
        "at docs@brackwater.example.",
    ),
]

_T_BODY: list[list[Block]] = [
    [  # 1 Introduction
        (H1, "1 Introduction"),
        (H2, "1.1 What tallyctl does"),
        (
            P,
            "tallyctl is a command-line tool that reads tabular data from files and databases, "
            "transforms it in repeatable pipelines and writes the results to files or object "
            "storage. It runs on a laptop for a few megabytes and on a server for hundreds of "
            "gigabytes; the same pipeline file works in both places.",
        ),
        (
            P,
            "tallyctl keeps a record of every run, so you can see what changed between two "
            "results, go back to an earlier result and rerun only what is new.",
        ),
        (H2, "1.2 Core concepts"),
        (
            P,
            "A workspace is a directory that holds a tallyctl.toml file, the pipeline files and "
            "a hidden .tally folder with the run history.",
        ),
        (
            P,
            "A source is a named place that tallyctl reads rows from, such as a CSV file, a "
            "folder of Parquet files or a table in a PostgreSQL database.",
        ),
        (
            P,
            "A pipeline is an ordered list of steps that turns the rows of one or more sources "
            "into a result.",
        ),
        (
            P,
            "A sink is the place where a pipeline writes its result, for example a Parquet "
            "folder, a database table or a bucket in object storage.",
        ),
        (
            P,
            "A snapshot is a frozen, read-only copy of a pipeline's result at the moment a run "
            "finished.",
        ),
        (H2, "1.3 How this guide is organised"),
        (
            P,
            "Chapter 2 installs tallyctl, chapter 3 configures it and its sources, chapter 4 "
            "builds and runs pipelines, chapter 5 writes results to sinks and chapter 6 keeps "
            "snapshots. Chapter 7 helps when something goes wrong and chapter 8 lists every "
            "command and option.",
        ),
    ],
    [
        (H2, "1.4 A typical day with tallyctl"),
        (
            P,
            "A typical day starts with tallyctl pull, which refreshes the cached copy of every "
            "remote source. tallyctl run then runs one pipeline, and tallyctl status shows the "
            "last run of every pipeline in the workspace with its duration and row counts.",
        ),
        (CODE, "$ tallyctl pull\n$ tallyctl run monthly_sales\n$ tallyctl status"),
        (
            P,
            "The pull step is optional: a run reads remote sources directly when no cached copy "
            "exists. Caching pays off when several pipelines read the same source.",
        ),
        (
            P,
            "Cached copies of remote sources are kept in .tally/cache and are refreshed only by "
            "tallyctl pull, never by a run.",
        ),
        (H2, "1.5 Conventions used in this guide"),
        (
            P,
            "Commands you type are shown in a fixed-width font and start with a dollar sign, "
            "which you do not type. Words in capitals, such as NAME or PIPELINE, stand for "
            "values you choose.",
        ),
        (
            P,
            "Unless stated otherwise, sizes are in bytes with the usual binary prefixes and "
            "durations are in seconds. Settings are written as they appear in tallyctl.toml.",
        ),
    ],
    [  # 2 Installing
        (H1, "2 Installing tallyctl"),
        (H2, "2.1 System requirements"),
        (
            P,
            "tallyctl needs a 64-bit operating system: Linux with glibc 2.28 or later, macOS 12 "
            "or later, or Windows 10 or later.",
        ),
        (
            P,
            "At least 2 GB of memory is recommended; a pipeline that joins large sources needs "
            "roughly twice the size of the larger source.",
        ),
        (
            P,
            "Database sources need network access to the database server; file sources need "
            "read access to the files and nothing else.",
        ),
        (H2, "2.2 Installing on Linux and macOS"),
        (
            P,
            "To install tallyctl on Linux or macOS, download the archive for your platform and "
            "run the install.sh script inside it as a normal user.",
        ),
        (CODE, "$ tar xzf tallyctl-4.2-linux-x86_64.tar.gz\n$ ./tallyctl-4.2/install.sh"),
        (
            P,
            "The script places the binary in ~/.local/bin; add that folder to your PATH if your "
            "shell does not find the tallyctl command afterwards.",
        ),
        (P, "Homebrew users can instead run brew install brackwater/tap/tallyctl."),
    ],
    [
        (H2, "2.3 Installing on Windows"),
        (
            P,
            "On Windows, run the tallyctl-setup.msi installer; it needs administrator rights only "
            "when you install for all users of the computer.",
        ),
        (
            P,
            "The Windows build does not support the watch command when the workspace lies on a "
            "network drive, because Windows does not deliver change notifications for such "
            "drives.",
        ),
        (P, "Paths in tallyctl.toml may use forward slashes on every platform, including Windows."),
        (H2, "2.4 Checking the installation"),
        (
            P,
            "Run tallyctl version to check the installation; it prints the version, the build "
            "date and the plugins it found.",
        ),
        (
            CODE,
            "$ tallyctl version\ntallyctl 4.2.0 (built 2026-01-05) plugins: parquet, postgres, s3",
        ),
        (
            P,
            "If a plugin you expect is missing from the list, reinstall with the full archive; "
            "the minimal archive ships without the database plugins.",
        ),
    ],
    [
        (H2, "2.5 Upgrading"),
        (
            P,
            "To upgrade, install the new version over the old one; workspaces are converted to "
            "the new format the first time the new version opens them.",
        ),
        (
            P,
            "A workspace opened by tallyctl 4.x cannot be opened again by 3.x, so keep a copy "
            "of the .tally folder if you may need to go back to the older version.",
        ),
        (
            P,
            "Pipeline files written for 3.x keep working; steps whose names changed are mapped "
            "to the new names and a notice is printed once.",
        ),
        (H2, "2.6 Uninstalling"),
        (
            P,
            "To remove tallyctl, delete the binary and the ~/.config/tallyctl folder; your "
            "workspaces, pipelines and snapshots are not touched.",
        ),
        (
            P,
            "On Windows, use Apps and Features in the Settings app. The credential store is "
            "kept unless you also delete the folder %APPDATA%\\tallyctl.",
        ),
    ],
    [  # 3 Configuring
        (H1, "3 Configuring tallyctl"),
        (H2, "3.1 The configuration file"),
        (
            P,
            "Settings live in tallyctl.toml at the root of the workspace. tallyctl init creates "
            "the file with the most common settings commented out.",
        ),
        (
            CODE,
            '[workspace]\nthreads = 8\ntimezone = "Europe/Lisbon"\n\n'
            '[sources.orders]\nkind = "csv"\nlocation = "data/orders/*.csv"',
        ),
        (H2, "3.2 Where settings come from"),
        (
            P,
            "When the same setting is given in several places, a command-line option wins over "
            "an environment variable, which wins over tallyctl.toml, which wins over the "
            "built-in default.",
        ),
        (
            P,
            "Every setting can be given as an environment variable by writing its name in "
            "capitals with the prefix TALLY_, for example TALLY_THREADS=4.",
        ),
        (P, "tallyctl config show prints every setting in effect and where its value came from."),
    ],
    [
        (H2, "3.3 Configuring sources"),
        (
            P,
            "Each source is a [sources.NAME] table in tallyctl.toml with at least a kind and a "
            "location. The kind decides which other settings the source accepts.",
        ),
        (
            P,
            "To add a source without editing the file by hand, run tallyctl source add NAME "
            "with --kind and --location; the command checks that the location can be read "
            "before it saves anything.",
        ),
        (P, "Settings of CSV sources:"),
        (
            TABLE,
            [
                ("Setting", "Meaning and default"),
                ("delimiter", "Field separator; guessed when not set (see 3.4)."),
                ("quote", "Quote character; default is the double quote."),
                ("header", "Whether the first line names the columns; default true."),
                ("encoding", "Text encoding of the file; default utf-8."),
                ("skip_rows", "Number of lines to ignore at the top of each file; default 0."),
                ("null_values", "Strings read as empty values; default is the empty string."),
            ],
        ),
        (
            P,
            "A location may contain wildcards; every file that matches is read as part of the "
            "same source, in alphabetical order of the file names.",
        ),
    ],
    [
        (H2, "3.4 CSV and text files"),
        (
            P,
            "tallyctl guesses the delimiter from the first 64 KiB of a CSV file when no "
            "delimiter is set.",
        ),
        (
            P,
            "Delimiter guessing does not work for files with a single column, so set delimiter "
            "explicitly for such files.",
        ),
        (
            P,
            "Files that are not UTF-8 must name their encoding, for example encoding = "
            '"latin-1"; otherwise unreadable bytes are replaced and a warning is logged.',
        ),
        (
            P,
            "Lines that have more fields than the header are rejected and written to "
            ".tally/rejects with the file name and line number, so that one bad line does not "
            "stop a run.",
        ),
        (P, "Compressed files ending in .gz or .zst are decompressed while they are read."),
    ],
    [
        (H2, "3.5 Database sources"),
        (P, "A PostgreSQL or MySQL source reads a whole table or the result of a query."),
        (
            CODE,
            '[sources.customers]\nkind = "postgres"\nlocation = "postgres://db.internal/crm"\n'
            'table = "public.customers"\npassword = "secret:crm_db"',
        ),
        (
            P,
            "To read only part of a table, give a query instead of a table name; the query "
            "runs unchanged on the database server.",
        ),
        (
            P,
            "tallyctl opens at most four connections per database source; raise "
            "max_connections in the source table if the database allows more.",
        ),
        (
            P,
            "Rows are fetched in batches of batch_rows (see 7.3) through a server-side cursor, "
            "so a large table never has to fit in memory.",
        ),
    ],
    [
        (H2, "3.6 Credentials"),
        (
            P,
            "Passwords and tokens should never be written into tallyctl.toml; put them in the "
            "credential store with tallyctl secret set NAME and refer to them as secret:NAME.",
        ),
        (P, "The credential store is encrypted with a key kept in the operating system keychain."),
        (
            P,
            "On Linux servers without a keychain, the key is read from the TALLY_SECRET_KEY "
            "environment variable instead.",
        ),
        (
            P,
            "tallyctl secret list shows the names of stored credentials but never their values. "
            "Credentials are per user: another user on the same computer has a store of their "
            "own.",
        ),
    ],
    [
        (H2, "3.7 Proxies and network settings"),
        (
            P,
            "tallyctl honours the HTTPS_PROXY and NO_PROXY environment variables for every "
            "network source and sink.",
        ),
        (
            P,
            "Connections that stay silent for longer than network_timeout are abandoned and "
            "retried up to three times.",
        ),
        (
            TABLE,
            [
                ("Setting", "Meaning and default"),
                (
                    "network_timeout",
                    "Seconds of silence before a connection is dropped; default 30.",
                ),
                ("retries", "How often a failed request is repeated; default 3."),
                (
                    "retry_backoff",
                    "Seconds to wait before the first retry, doubled each time; default 2.",
                ),
                (
                    "verify_tls",
                    "Check server certificates; default true. Never turn this off for "
                    "production data.",
                ),
            ],
        ),
        (
            P,
            "A corporate certificate authority can be added with ca_bundle, the path of a PEM "
            "file.",
        ),
    ],
    [  # 4 Pipelines
        (H1, "4 Building pipelines"),
        (H2, "4.1 Pipeline files"),
        (
            P,
            "A pipeline is described in a YAML file in the pipelines folder of the workspace; "
            "the file name without its extension is the pipeline's name.",
        ),
        (
            P,
            "Steps run in the order they are written; each step receives the rows the previous "
            "step produced.",
        ),
        (
            CODE,
            "read: orders\nsteps:\n  - filter: amount > 0\n  - join: customers\n"
            "    on: customer_id\n  - aggregate:\n      by: [region]\n"
            "      total: sum(amount)\nwrite: warehouse",
        ),
        (
            P,
            "tallyctl new NAME creates a pipeline file with the read, steps and write sections "
            "filled in with examples.",
        ),
    ],
    [
        (H2, "4.2 Filtering rows"),
        (P, "The filter step keeps only the rows for which its condition is true."),
        (
            P,
            "Rows in which the condition cannot be evaluated, for example because a column is "
            "empty, are dropped and counted in the run summary under skipped rows.",
        ),
        (
            P,
            "Conditions use the usual comparison operators, and, or and not, and functions such "
            "as lower(), year() and contains().",
        ),
        (H2, "4.3 Selecting and renaming columns"),
        (
            P,
            "The select step keeps the listed columns in the listed order; every other column "
            "is left out of the result.",
        ),
        (
            P,
            "The rename step gives columns new names and leaves their values unchanged, for "
            "example rename: {cust_no: customer_id}.",
        ),
    ],
    [
        (H2, "4.4 Joining sources"),
        (P, "The join step combines the rows of two sources that share a key column."),
        (
            P,
            "Joins are inner by default; set how: left to keep every row of the first source "
            "even when it has no match in the second.",
        ),
        (
            P,
            "A join does not preserve the order of rows; add a sort step after it when the "
            "order matters.",
        ),
        (
            P,
            "When both sources have a column of the same name that is not the key, the column "
            "of the second source is renamed with the suffix _right.",
        ),
    ],
    [
        (H2, "4.5 Aggregating"),
        (
            P,
            "The aggregate step groups rows by one or more columns and computes totals, counts, "
            "averages, minimums and maximums for each group.",
        ),
        (
            TABLE,
            [
                ("Function", "Result for each group"),
                ("sum(col)", "Total of the values; empty values are skipped."),
                ("count()", "Number of rows in the group."),
                ("mean(col)", "Average of the values that are not empty."),
                ("min(col), max(col)", "Smallest and largest value."),
                ("distinct_count(col)", "Number of different values (approximate, see below)."),
            ],
        ),
        (
            P,
            "distinct_count is approximate above one million distinct values; its error stays "
            "below 1 percent.",
        ),
    ],
    [
        (H2, "4.6 Running a pipeline"),
        (P, "To run a pipeline, use tallyctl run NAME from anywhere inside the workspace."),
        (
            P,
            "Add --dry-run to check a pipeline without reading any data: tallyctl validates "
            "every step and prints the columns each step would produce.",
        ),
        (
            P,
            "A run stops at the first failing step and writes nothing to its sinks, so a "
            "half-finished result never replaces a good one.",
        ),
        (
            P,
            "At the end of a run, tallyctl prints a summary with the rows read, written and "
            "skipped per step and the time each step took.",
        ),
    ],
    [
        (H2, "4.7 Incremental runs"),
        (
            P,
            "An incremental run reads only the rows that were added to a source since the "
            "previous successful run.",
        ),
        (
            P,
            "To make a pipeline incremental, set incremental: true and name a cursor column "
            "that only ever grows, such as an id or a timestamp.",
        ),
        (
            P,
            "Incremental runs do not notice rows that were changed or deleted in place; run "
            "with --full once in a while to pick those up.",
        ),
        (
            P,
            "The position of the cursor is stored in the run history and moves forward only "
            "when a run succeeds.",
        ),
    ],
    [
        (H2, "4.8 Scheduling pipelines"),
        (
            P,
            "To run a pipeline on a schedule, add a schedule line with a cron expression to the "
            "pipeline file and start tallyctl daemon.",
        ),
        (CODE, 'schedule: "0 6 * * 1-5"   # 06:00 on weekdays'),
        (
            P,
            "The daemon skips a scheduled run when the previous run of the same pipeline is "
            "still going, and logs a warning instead of starting a second copy.",
        ),
        (
            P,
            "Times in schedules are read in the workspace time zone, which is UTC unless "
            "timezone is set in tallyctl.toml.",
        ),
    ],
    [  # 5 Sinks
        (H1, "5 Writing results"),
        (H2, "5.1 Sinks"),
        (
            P,
            "A sink is named in the pipeline's write section; a pipeline may write to several "
            "sinks at once, and each receives the same rows.",
        ),
        (
            TABLE,
            [
                ("Kind", "What is written"),
                ("csv", "One CSV file, or one per partition."),
                ("parquet", "A folder of Parquet files (see 5.2)."),
                ("postgres", "A table, created when it does not exist, replaced on each run."),
                ("s3", "Parquet or CSV objects under a bucket prefix (see 5.4)."),
                ("stdout", "Rows printed to the terminal, for trying a pipeline."),
            ],
        ),
        (P, "Sinks are declared like sources, as [sinks.NAME] tables in tallyctl.toml."),
    ],
    [
        (H2, "5.2 Writing Parquet"),
        (
            P,
            "Parquet output is compressed with zstd by default; set compression to snappy for "
            "faster writes or to none for old readers that understand no compression.",
        ),
        (
            P,
            "Set row_group_size to change how many rows go into one Parquet row group; the "
            "default is 128,000.",
        ),
        (
            P,
            "Column types are taken from the last step of the pipeline; text columns are "
            "written as dictionary-encoded strings when fewer than 10,000 values differ.",
        ),
    ],
    [
        (H2, "5.3 Partitioned output"),
        (
            P,
            "Set partition_by to a list of columns to write one folder per distinct value, for "
            "example one folder per year and month.",
        ),
        (
            P,
            "Partitioning by a column with many distinct values creates many small files and "
            "slows later reads; keep partitions above roughly 50 MB each.",
        ),
        (
            P,
            "Folder names follow the column=value convention, such as year=2026/month=01, "
            "which most query engines read without further settings.",
        ),
    ],
    [
        (H2, "5.4 Object storage"),
        (
            P,
            'To write to S3 or a compatible object store, use kind = "s3" with a bucket and a '
            "prefix, and put the access key in the credential store.",
        ),
        (
            P,
            "Uploads larger than 100 MB are sent in parts of 16 MB; an interrupted upload is "
            "resumed on the next run instead of starting over.",
        ),
        (
            P,
            "tallyctl does not delete old objects under the prefix when a result shrinks; set "
            "clean_prefix = true to remove objects that the current run did not write.",
        ),
        (P, "For stores other than Amazon S3, set endpoint to the address of the service."),
    ],
    [  # 6 Snapshots
        (H1, "6 Snapshots and history"),
        (H2, "6.1 Creating snapshots"),
        (P, "Add snapshot: true to a pipeline to keep a snapshot of every successful run."),
        (
            P,
            "To take a snapshot of the current result by hand, run tallyctl snapshot create "
            "PIPELINE.",
        ),
        (H2, "6.2 Listing and comparing snapshots"),
        (
            P,
            "tallyctl snapshot list shows the snapshots of a pipeline, newest first, with their "
            "row counts and sizes.",
        ),
        (
            P,
            "tallyctl snapshot diff A B shows the rows added, removed and changed between two "
            "snapshots, matched by the key columns of the pipeline.",
        ),
    ],
    [
        (H2, "6.3 Retention"),
        (
            P,
            "By default tallyctl keeps the last 30 snapshots of each pipeline and deletes older "
            "ones after each run.",
        ),
        (
            P,
            "Set keep_snapshots to another number, or keep_days to keep snapshots by age "
            "instead; when both are set, a snapshot is kept if either rule keeps it.",
        ),
        (P, "Snapshots that are pinned with tallyctl snapshot pin are never deleted by retention."),
        (
            P,
            "Retention runs only at the end of a successful run, so a pipeline that keeps "
            "failing keeps all its snapshots.",
        ),
    ],
    [
        (H2, "6.4 Restoring a snapshot"),
        (
            P,
            "To put an earlier result back in place, run tallyctl snapshot restore PIPELINE "
            "SNAPSHOT_ID; the sinks are rewritten with the snapshot's rows.",
        ),
        (
            P,
            "Restoring does not roll back the source data or the incremental cursor, so the "
            "next incremental run continues from where the latest run stopped.",
        ),
        (P, "A restore is recorded in the run history like a run, so tallyctl status shows it."),
    ],
    [  # 7 Troubleshooting
        (H1, "7 Troubleshooting"),
        (H2, "7.1 Log files"),
        (
            P,
            "Every run writes a log file to .tally/logs in the workspace, named after the "
            "pipeline and the start time.",
        ),
        (
            P,
            "Add -v for more detail on the screen, or -vv to include the SQL sent to database "
            "sources.",
        ),
        (
            P,
            "Log files older than 14 days are deleted at the start of each run; set "
            "keep_logs_days to keep them longer.",
        ),
    ],
    [
        (H2, "7.2 Error codes"),
        (
            TABLE,
            [
                ("Code", "Meaning and what to do"),
                ("T101", "A source location matches no file. Check the path and wildcards."),
                ("T102", "Permission denied while reading a source or writing a sink."),
                ("T204", "A step uses a column that the source no longer has (see 7.4)."),
                ("T305", "A sink could not be written; nothing was replaced."),
                ("T410", "The run ran out of memory (see 7.3)."),
                ("T512", "The workspace is locked by another tallyctl process."),
            ],
        ),
        (
            P,
            "Error T512 means another tallyctl process holds the workspace lock; it clears by "
            "itself when that process ends.",
        ),
        (
            P,
            "If no tallyctl process is running and T512 persists, delete the file "
            ".tally/lock; it is left behind only when a process was killed.",
        ),
    ],
    [
        (H2, "7.3 Memory and performance"),
        (
            P,
            "When a run fails with T410, lower batch_rows (default 50,000) or give the join step "
            "spill: true so that it can use disk instead of memory.",
        ),
        (
            P,
            "tallyctl uses one thread per CPU core by default; set threads to a lower number to "
            "leave room for other programs.",
        ),
        (
            P,
            "Reading Parquet is usually ten times faster than reading the same data as CSV, so "
            "convert large CSV sources once if many pipelines read them.",
        ),
    ],
    [
        (H2, "7.4 Schema changes"),
        (
            P,
            "When a source gains a column, tallyctl adds it to the result and fills earlier rows "
            "with empty values.",
        ),
        (
            P,
            "When a source loses a column that a step uses, the run fails with T204 and names "
            "the missing column.",
        ),
        (
            P,
            "A change in the type of a column, for example from integer to text, is not "
            "detected for CSV sources until a value fails to convert.",
        ),
    ],
    [  # 8 Reference
        (H1, "8 Command reference"),
        (H2, "8.1 Global options"),
        (P, "These options are accepted by every command:"),
        (
            TABLE,
            [
                ("Option", "Effect"),
                ("-w, --workspace DIR", "Use DIR as the workspace instead of searching upwards."),
                ("-v, -vv", "More detail on the screen (see 7.1)."),
                ("-q, --quiet", "Print only errors."),
                ("--config FILE", "Read settings from FILE instead of tallyctl.toml."),
                ("--no-color", "Plain output without colours, also set by NO_COLOR."),
                ("--threads N", "Use N threads (see 7.3)."),
            ],
        ),
    ],
    [
        (H2, "8.2 tallyctl run"),
        (
            TABLE,
            [
                ("Option", "Effect"),
                ("--dry-run", "Validate the pipeline and print its columns; read no data."),
                ("--full", "Ignore the incremental cursor and read every row."),
                ("--since DATE", "Read rows whose cursor is at or after DATE."),
                ("--only STEP", "Run the pipeline up to and including STEP."),
                ("--limit N", "Stop every source after N rows."),
                ("--output FORMAT", "Summary as text (default) or json."),
            ],
        ),
        (
            P,
            "--limit N stops every source after N rows, which is useful for trying a pipeline "
            "on a sample before a long run.",
        ),
    ],
    [
        (H2, "8.3 tallyctl source and tallyctl secret"),
        (
            TABLE,
            [
                ("Command", "Effect"),
                ("source add NAME", "Add a source (see 3.3)."),
                ("source list", "Show every source with its kind and location."),
                ("source test NAME", "Read the first 100 rows and print them."),
                ("source remove NAME", "Remove a source that no pipeline reads."),
                ("secret set NAME", "Store a credential (asks for the value)."),
                ("secret list", "Show the names of stored credentials."),
                ("secret delete NAME", "Remove a stored credential."),
            ],
        ),
        (
            P,
            "tallyctl source remove refuses to remove a source that a pipeline still reads and "
            "names those pipelines.",
        ),
    ],
    [
        (H2, "8.4 tallyctl snapshot"),
        (
            TABLE,
            [
                ("Command", "Effect"),
                ("snapshot create PIPELINE", "Snapshot the current result."),
                ("snapshot list PIPELINE", "List snapshots, newest first."),
                ("snapshot diff A B", "Rows added, removed and changed."),
                ("snapshot pin ID", "Protect a snapshot from retention."),
                ("snapshot unpin ID", "Remove the protection again."),
                ("snapshot restore PIPELINE ID", "Rewrite the sinks from a snapshot."),
                ("snapshot delete ID", "Delete a snapshot now."),
            ],
        ),
        (
            P,
            "tallyctl snapshot delete refuses to delete a pinned snapshot unless --force is given.",
        ),
    ],
    [  # Appendix
        (H1, "Appendix A Glossary"),
        (
            P,
            "Cursor column: a column whose values only grow, used by incremental runs to find "
            "new rows.",
        ),
        (P, "Dry run: a check of a pipeline that reads no data."),
        (
            P,
            "Partition: one folder of output that holds the rows with the same values in the "
            "partition_by columns.",
        ),
        (P, "Pinned snapshot: a snapshot that retention does not delete."),
        (P, "Row group: a block of rows inside a Parquet file that readers can skip as a whole."),
        (P, "Spill: writing intermediate rows of a join to disk when memory runs short."),
        (
            P,
            "Workspace lock: a file that stops two tallyctl processes from changing the same "
            "workspace at the same time.",
        ),
    ],
]

_T_INDEX_TERMS = [
    "aggregate",
    "batch_rows",
    "cache",
    "clean_prefix",
    "compression",
    "credential store",
    "cron",
    "CSV",
    "cursor",
    "daemon",
    "delimiter",
    "distinct_count",
    "dry-run",
    "encoding",
    "environment variable",
    "error codes",
    "filter",
    "incremental",
    "install",
    "join",
    "keep_days",
    "keep_snapshots",
    "keychain",
    "log",
    "memory",
    "network_timeout",
    "Parquet",
    "partition_by",
    "pin",
    "pipeline",
    "PostgreSQL",
    "proxy",
    "retention",
    "restore",
    "row_group_size",
    "schedule",
    "schema",
    "secret",
    "sink",
    "snapshot",
    "source",
    "spill",
    "threads",
    "timezone",
    "upgrade",
    "Windows",
    "workspace",
    "zstd",
]

_T_PAGES, _T_TEXTS = _assemble(
    ["tallyctl 4.2", "User Guide", "Brackwater Labs", "January 2026"],
    [_T_LICENCE],
    _T_BODY,
    _T_INDEX_TERMS,
)

_T_QUESTIONS = [
    (
        "What is a workspace in tallyctl?",
        "A directory with tallyctl.toml, the pipeline files and the .tally run history folder.",
        "A workspace is a directory that holds a tallyctl.toml file, the pipeline files and a "
        "hidden .tally folder with the run history.",
    ),
    (
        "What does tallyctl mean by a snapshot?",
        "A frozen, read-only copy of a pipeline's result taken when a run finished.",
        "A snapshot is a frozen, read-only copy of a pipeline's result at the moment a run "
        "finished.",
    ),
    (
        "Does tallyctl run refresh my cached remote data?",
        "No; cached copies are refreshed only by tallyctl pull.",
        "Cached copies of remote sources are kept in .tally/cache and are refreshed only by "
        "tallyctl pull, never by a run.",
    ),
    (
        "Which operating systems can I run tallyctl on?",
        "64-bit Linux (glibc 2.28+), macOS 12+ or Windows 10+.",
        "tallyctl needs a 64-bit operating system: Linux with glibc 2.28 or later, macOS 12 or "
        "later, or Windows 10 or later.",
    ),
    (
        "How much RAM do I need when joining big tables?",
        "About twice the size of the larger source (2 GB minimum recommended).",
        "At least 2 GB of memory is recommended; a pipeline that joins large sources needs "
        "roughly twice the size of the larger source.",
    ),
    (
        "My shell says tallyctl: command not found after installing on Linux. What should I do?",
        "Add ~/.local/bin, where the installer puts the binary, to PATH.",
        "The script places the binary in ~/.local/bin; add that folder to your PATH if your shell "
        "does not find the tallyctl command afterwards.",
    ),
    (
        "Do I need to be an administrator to install it on Windows?",
        "Only when installing for all users.",
        "On Windows, run the tallyctl-setup.msi installer; it needs administrator rights only "
        "when you install for all users of the computer.",
    ),
    (
        "Why doesn't watch work when my workspace is on a mapped network drive in Windows?",
        "Windows delivers no change notifications for network drives, so watch is unsupported.",
        "The Windows build does not support the watch command when the workspace lies on a "
        "network drive, because Windows does not deliver change notifications for such drives.",
    ),
    (
        "How can I see which plugins were installed?",
        "Run tallyctl version; it lists the plugins found.",
        "Run tallyctl version to check the installation; it prints the version, the build date "
        "and the plugins it found.",
    ),
    (
        "Can I go back to version 3 after opening my workspace with version 4?",
        "No; 3.x cannot open it again, so back up .tally first.",
        "A workspace opened by tallyctl 4.x cannot be opened again by 3.x, so keep a copy of the "
        ".tally folder if you may need to go back to the older version.",
    ),
    (
        "Will uninstalling delete my pipelines?",
        "No; deleting the binary and ~/.config/tallyctl leaves workspaces untouched.",
        "To remove tallyctl, delete the binary and the ~/.config/tallyctl folder; your "
        "workspaces, pipelines and snapshots are not touched.",
    ),
    (
        "If a setting is in both the config file and an environment variable, which one is used?",
        "The environment variable (a command-line option would beat both).",
        "When the same setting is given in several places, a command-line option wins over an "
        "environment variable, which wins over tallyctl.toml, which wins over the built-in "
        "default.",
    ),
    (
        "How do I set the number of threads through the environment?",
        "Use the TALLY_ prefix in capitals, e.g. TALLY_THREADS=4.",
        "Every setting can be given as an environment variable by writing its name in capitals "
        "with the prefix TALLY_, for example TALLY_THREADS=4.",
    ),
    (
        "How do I register a new CSV file as an input without editing the TOML?",
        "tallyctl source add NAME --kind csv --location PATH.",
        "To add a source without editing the file by hand, run tallyctl source add NAME with "
        "--kind and --location; the command checks that the location can be read before it "
        "saves anything.",
    ),
    (
        "How many header lines can I skip at the top of a CSV, and what's the setting?",
        "skip_rows; default 0.",
        "skip_rows Number of lines to ignore at the top of each file; default 0.",
    ),
    (
        "How does tallyctl figure out the separator of a CSV file?",
        "It guesses from the first 64 KiB when no delimiter is set.",
        "tallyctl guesses the delimiter from the first 64 KiB of a CSV file when no delimiter is "
        "set.",
    ),
    (
        "When does automatic delimiter detection fail?",
        "For single-column files; set delimiter explicitly.",
        "Delimiter guessing does not work for files with a single column, so set delimiter "
        "explicitly for such files.",
    ),
    (
        "My file is in Latin-1 and accents come out garbled. How do I fix it?",
        'Set encoding = "latin-1" on the source.',
        'Files that are not UTF-8 must name their encoding, for example encoding = "latin-1"; '
        "otherwise unreadable bytes are replaced and a warning is logged.",
    ),
    (
        "What happens to a CSV line with too many fields?",
        "It is rejected and written to .tally/rejects; the run continues.",
        "Lines that have more fields than the header are rejected and written to .tally/rejects "
        "with the file name and line number, so that one bad line does not stop a run.",
    ),
    (
        "How can I load just some rows of a Postgres table?",
        "Give a query instead of a table name.",
        "To read only part of a table, give a query instead of a table name; the query runs "
        "unchanged on the database server.",
    ),
    (
        "How many simultaneous database connections does it use?",
        "At most four per database source; raise max_connections.",
        "tallyctl opens at most four connections per database source; raise max_connections in "
        "the source table if the database allows more.",
    ),
    (
        "Where should I keep the database password?",
        "In the credential store (tallyctl secret set), referenced as secret:NAME.",
        "Passwords and tokens should never be written into tallyctl.toml; put them in the "
        "credential store with tallyctl secret set NAME and refer to them as secret:NAME.",
    ),
    (
        "On a headless Linux box with no keychain, where does the encryption key for secrets "
        "come from?",
        "The TALLY_SECRET_KEY environment variable.",
        "On Linux servers without a keychain, the key is read from the TALLY_SECRET_KEY "
        "environment variable instead.",
    ),
    (
        "How long does tallyctl wait on an unresponsive connection before giving up?",
        "network_timeout, 30 seconds by default, then up to three retries.",
        "network_timeout Seconds of silence before a connection is dropped; default 30.",
    ),
    (
        "Where do pipeline definitions live and how is a pipeline named?",
        "YAML files in the pipelines folder; the file name is the pipeline name.",
        "A pipeline is described in a YAML file in the pipelines folder of the workspace; the "
        "file name without its extension is the pipeline's name.",
    ),
    (
        "What happens to rows where the filter condition can't be computed?",
        "They are dropped and counted as skipped rows in the summary.",
        "Rows in which the condition cannot be evaluated, for example because a column is empty, "
        "are dropped and counted in the run summary under skipped rows.",
    ),
    (
        "How do I keep unmatched rows from the first table in a join?",
        "Set how: left (joins are inner by default).",
        "Joins are inner by default; set how: left to keep every row of the first source even "
        "when it has no match in the second.",
    ),
    (
        "Does joining keep my rows in their original order?",
        "No; add a sort step after the join.",
        "A join does not preserve the order of rows; add a sort step after it when the order "
        "matters.",
    ),
    (
        "How exact is distinct_count on very large data?",
        "Approximate above one million distinct values, error below 1 percent.",
        "distinct_count is approximate above one million distinct values; its error stays below "
        "1 percent.",
    ),
    (
        "How can I test a pipeline without touching any data?",
        "tallyctl run NAME --dry-run validates steps and prints columns.",
        "Add --dry-run to check a pipeline without reading any data: tallyctl validates every "
        "step and prints the columns each step would produce.",
    ),
    (
        "If a step fails halfway, is the old output overwritten?",
        "No; a failed run writes nothing to its sinks.",
        "A run stops at the first failing step and writes nothing to its sinks, so a "
        "half-finished result never replaces a good one.",
    ),
    (
        "How do I make a pipeline process only new rows each time?",
        "Set incremental: true and name a cursor column that only grows.",
        "To make a pipeline incremental, set incremental: true and name a cursor column that "
        "only ever grows, such as an id or a timestamp.",
    ),
    (
        "Why are updated records not showing up in my incremental pipeline?",
        "Incremental runs miss in-place changes and deletes; run with --full now and then.",
        "Incremental runs do not notice rows that were changed or deleted in place; run with "
        "--full once in a while to pick those up.",
    ),
    (
        "What if a scheduled run is due while the last one hasn't finished?",
        "The daemon skips it and logs a warning.",
        "The daemon skips a scheduled run when the previous run of the same pipeline is still "
        "going, and logs a warning instead of starting a second copy.",
    ),
    (
        "Which time zone are cron times interpreted in?",
        "The workspace time zone: UTC unless timezone is set.",
        "Times in schedules are read in the workspace time zone, which is UTC unless timezone is "
        "set in tallyctl.toml.",
    ),
    (
        "What compression does Parquet output use, and how do I make writes faster?",
        "zstd by default; snappy is faster.",
        "Parquet output is compressed with zstd by default; set compression to snappy for faster "
        "writes or to none for old readers that understand no compression.",
    ),
    (
        "What's the default number of rows per row group?",
        "128,000 (row_group_size).",
        "Set row_group_size to change how many rows go into one Parquet row group; the default "
        "is 128,000.",
    ),
    (
        "Why are reads slow after I partitioned by customer id?",
        "Too many distinct values make many small files; keep partitions above about 50 MB.",
        "Partitioning by a column with many distinct values creates many small files and slows "
        "later reads; keep partitions above roughly 50 MB each.",
    ),
    (
        "Old files stay in my bucket after the output got smaller. How do I get rid of them?",
        "Set clean_prefix = true.",
        "tallyctl does not delete old objects under the prefix when a result shrinks; set "
        "clean_prefix = true to remove objects that the current run did not write.",
    ),
    (
        "What happens if a big upload to S3 gets interrupted?",
        "It is resumed on the next run (multipart, 16 MB parts).",
        "Uploads larger than 100 MB are sent in parts of 16 MB; an interrupted upload is resumed "
        "on the next run instead of starting over.",
    ),
    (
        "How many old results does tallyctl keep by default?",
        "The last 30 snapshots per pipeline.",
        "By default tallyctl keeps the last 30 snapshots of each pipeline and deletes older ones "
        "after each run.",
    ),
    (
        "How do I stop a particular snapshot from ever being cleaned up?",
        "Pin it with tallyctl snapshot pin.",
        "Snapshots that are pinned with tallyctl snapshot pin are never deleted by retention.",
    ),
    (
        "How do I roll back to yesterday's output?",
        "tallyctl snapshot restore PIPELINE SNAPSHOT_ID rewrites the sinks.",
        "To put an earlier result back in place, run tallyctl snapshot restore PIPELINE "
        "SNAPSHOT_ID; the sinks are rewritten with the snapshot's rows.",
    ),
    (
        "After restoring an old snapshot, does the incremental cursor go back too?",
        "No; restoring does not roll back source data or the cursor.",
        "Restoring does not roll back the source data or the incremental cursor, so the next "
        "incremental run continues from where the latest run stopped.",
    ),
    (
        "How do I see the SQL queries tallyctl sends?",
        "Use -vv.",
        "Add -v for more detail on the screen, or -vv to include the SQL sent to database sources.",
    ),
    (
        "What does error T512 mean?",
        "Another tallyctl process holds the workspace lock; it clears when that process ends.",
        "Error T512 means another tallyctl process holds the workspace lock; it clears by itself "
        "when that process ends.",
    ),
    (
        "My run crashes with an out-of-memory error. What can I change?",
        "Lower batch_rows or set spill: true on the join.",
        "When a run fails with T410, lower batch_rows (default 50,000) or give the join step "
        "spill: true so that it can use disk instead of memory.",
    ),
    (
        "What happens when a column disappears from my input data?",
        "The run fails with T204 naming the missing column.",
        "When a source loses a column that a step uses, the run fails with T204 and names the "
        "missing column.",
    ),
    (
        "How can I try a pipeline on just a sample of the data?",
        "Use --limit N.",
        "--limit N stops every source after N rows, which is useful for trying a pipeline on a "
        "sample before a long run.",
    ),
    (
        "Can I delete a pinned snapshot?",
        "Only with --force.",
        "tallyctl snapshot delete refuses to delete a pinned snapshot unless --force is given.",
    ),
    # not covered by the manual
    ("Can tallyctl read from a Kafka topic?", "Not covered by the manual.", ""),
    ("Does tallyctl have a graphical interface?", "Not covered by the manual.", ""),
    ("How much does an enterprise licence cost?", "Not covered by the manual.", ""),
    ("Can tallyctl send an email when a run fails?", "Not covered by the manual.", ""),
]


def build_manual_pdf() -> bytes:
    """The tallyctl user guide as a PDF (same bytes every time)."""
    return _render(_T_PAGES, _T_HEADER)


QUESTIONS: tuple[Question, ...] = _label(FILENAME, _T_TEXTS, _T_QUESTIONS)
MANUAL = Manual(FILENAME, _T_HEADER, build_manual_pdf, tuple(_T_TEXTS), QUESTIONS)


# ---- manual 2: a backup agent (shares words with manual 1 on purpose) -----------------------

SECOND_FILENAME = "quaystone-backup-admin.pdf"
_Q_HEADER = "Quaystone Backup Agent 2.0 Administrator Guide"

_Q_BODY: list[list[Block]] = [
    [
        (H1, "1 Overview"),
        (H2, "1.1 What the agent does"),
        (
            P,
            "The Quaystone Backup Agent is a background service that copies selected folders of "
            "a computer to a vault on a schedule and keeps a history of earlier versions.",
        ),
        (
            P,
            "A vault is the storage that receives backups: a folder on a network share, a "
            "Quaystone appliance or a bucket in object storage.",
        ),
        (P, "A backup set is a named list of folders with a schedule and a retention policy."),
        (H2, "1.2 How backups are stored"),
        (
            P,
            "Each backup stores only the blocks of files that changed since the previous "
            "backup, so daily backups of a large folder stay small.",
        ),
        (
            P,
            "Blocks are compressed and encrypted on the computer before they are sent, so the "
            "vault never sees readable data.",
        ),
    ],
    [
        (H1, "2 Installation"),
        (H2, "2.1 Installing the agent"),
        (
            P,
            "To install the agent on Windows, run QuaystoneAgent.msi as an administrator; on "
            "Linux, install the qs-agent package and enable the qs-agent service.",
        ),
        (
            P,
            "The agent runs as a service account with read access to every folder it backs "
            "up; on Linux it runs as root unless run_as is set.",
        ),
        (H2, "2.2 Connecting to a vault"),
        (
            P,
            "To connect an agent to a vault, run qs-agent register with the vault address and "
            "the one-time enrolment code shown in the vault console.",
        ),
        (
            P,
            "An enrolment code expires 24 hours after it was created; ask the vault "
            "administrator for a new one if registration fails with E21.",
        ),
    ],
    [
        (H1, "3 Backup sets and schedules"),
        (H2, "3.1 Choosing folders"),
        (
            P,
            "Add folders to a backup set with qs-agent set add-folder SET PATH; subfolders are "
            "included unless they match an exclude pattern.",
        ),
        (
            P,
            "Temporary files, browser caches and files larger than max_file_size (default 50 "
            "GB) are skipped.",
        ),
        (H2, "3.2 Schedules"),
        (P, "Every backup set has a schedule; the default is every day at 01:00 local time."),
        (
            P,
            "When the computer is off or asleep at the scheduled time, the backup starts within "
            "ten minutes of the computer waking up.",
        ),
        (
            P,
            "A backup set can have several schedules, for example hourly on weekdays and once "
            "on Sunday.",
        ),
    ],
    [
        (H1, "4 Retention policies"),
        (P, "A retention policy decides how many earlier versions of each file the vault keeps."),
        (
            P,
            "The default policy keeps every backup for 7 days, one backup per day for 30 days "
            "and one per month for 12 months.",
        ),
        (P, "Versions removed by retention cannot be restored, even by the vault administrator."),
        (
            P,
            "Retention is applied by the vault once a night, not by the agent, so changing a "
            "policy takes effect after the next nightly cleanup.",
        ),
        (P, "Legal hold suspends retention for a backup set until the hold is lifted."),
    ],
    [
        (H1, "5 Encryption"),
        (
            P,
            "Every agent encrypts backups with AES-256 using a key derived from the backup "
            "passphrase chosen at registration.",
        ),
        (
            P,
            "If the backup passphrase is lost, the backups cannot be decrypted by anyone, "
            "including Quaystone support.",
        ),
        (
            P,
            "Store a copy of the recovery sheet, printed with qs-agent key export, in a safe "
            "place away from the computer.",
        ),
        (
            P,
            "Changing the passphrase with qs-agent key rotate re-encrypts only the key, not the "
            "stored blocks, so it takes seconds.",
        ),
    ],
    [
        (H1, "6 Restoring files"),
        (H2, "6.1 Restoring to the original place"),
        (
            P,
            "To restore a file, run qs-agent restore with the file's path and, optionally, "
            "--at with the date of the version you want.",
        ),
        (P, "Without --at, the newest version in the vault is restored."),
        (
            P,
            "A restored file does not overwrite an existing file of the same name unless "
            "--overwrite is given; otherwise it is saved with the suffix .restored.",
        ),
        (H2, "6.2 Restoring to another computer"),
        (
            P,
            "To restore on a different computer, register an agent there and use "
            "qs-agent restore --from-agent NAME; the backup passphrase is required.",
        ),
    ],
    [
        (H1, "7 Network and bandwidth"),
        (
            P,
            "Limit the bandwidth a backup may use with upload_limit, in megabits per second; "
            "the limit applies to each backup set separately.",
        ),
        (
            P,
            "The agent pauses uploads while the computer runs on battery power, unless "
            "backup_on_battery is true.",
        ),
        (
            P,
            "The agent uses the system proxy settings; set proxy in agent.conf to use another "
            "proxy for backups only.",
        ),
        (
            P,
            "Metered connections such as mobile hotspots are detected on Windows and backups "
            "wait for an unmetered network.",
        ),
    ],
    [
        (H1, "8 Troubleshooting"),
        (
            TABLE,
            [
                ("Code", "Meaning and what to do"),
                ("E11", "The vault cannot be reached. Check the address and the proxy."),
                ("E21", "The enrolment code is wrong or has expired."),
                ("E34", "A file could not be read because another program has it locked."),
                ("E40", "The vault is full. Free space or extend the vault."),
                ("E52", "The backup passphrase does not match this agent's key."),
            ],
        ),
        (
            P,
            "Files locked by another program are retried at the end of the backup; on Windows "
            "the agent uses volume shadow copies so that most locked files are still read.",
        ),
        (
            P,
            "The agent log is written to /var/log/qs-agent on Linux and to the Windows event "
            "log under the source Quaystone.",
        ),
    ],
    [
        (H1, "9 Agent settings"),
        (
            TABLE,
            [
                ("Setting", "Meaning and default"),
                ("run_as", "Account the Linux service runs as; default root."),
                ("max_file_size", "Larger files are skipped; default 50 GB."),
                ("upload_limit", "Megabits per second per backup set; default unlimited."),
                ("backup_on_battery", "Back up on battery power; default false."),
                ("proxy", "Proxy for backups only; default is the system proxy."),
                ("log_level", "info, debug or warning; default info."),
            ],
        ),
        (P, "Settings live in agent.conf and are read again when the service restarts."),
    ],
]

_Q_INDEX_TERMS = [
    "backup set",
    "bandwidth",
    "battery",
    "enrolment code",
    "encryption",
    "exclude",
    "legal hold",
    "passphrase",
    "proxy",
    "register",
    "restore",
    "retention",
    "schedule",
    "vault",
]

_Q_PAGES, _Q_TEXTS = _assemble(
    ["Quaystone Backup Agent 2.0", "Administrator Guide", "Quaystone Systems", "March 2026"],
    [],
    _Q_BODY,
    _Q_INDEX_TERMS,
)

_Q_QUESTIONS = [
    (
        "What is a vault in Quaystone?",
        "The storage that receives backups: a share, an appliance or an object storage bucket.",
        "A vault is the storage that receives backups: a folder on a network share, a Quaystone "
        "appliance or a bucket in object storage.",
    ),
    (
        "Why are my daily Quaystone backups so small?",
        "Only changed blocks are stored each time.",
        "Each backup stores only the blocks of files that changed since the previous backup, so "
        "daily backups of a large folder stay small.",
    ),
    (
        "How do I hook the backup agent up to the vault?",
        "qs-agent register with the vault address and the one-time enrolment code.",
        "To connect an agent to a vault, run qs-agent register with the vault address and the "
        "one-time enrolment code shown in the vault console.",
    ),
    (
        "Agent registration fails with E21 - what now?",
        "The enrolment code expired (24 h); get a new one.",
        "An enrolment code expires 24 hours after it was created; ask the vault administrator for "
        "a new one if registration fails with E21.",
    ),
    (
        "What happens to a backup if my laptop is asleep at the scheduled time?",
        "It starts within ten minutes of waking up.",
        "When the computer is off or asleep at the scheduled time, the backup starts within ten "
        "minutes of the computer waking up.",
    ),
    (
        "How long does the backup agent keep old versions by default?",
        "All for 7 days, daily for 30 days, monthly for 12 months.",
        "The default policy keeps every backup for 7 days, one backup per day for 30 days and one "
        "per month for 12 months.",
    ),
    (
        "I changed the retention policy but old backups are still there. Why?",
        "The vault applies retention nightly; it takes effect after the next cleanup.",
        "Retention is applied by the vault once a night, not by the agent, so changing a policy "
        "takes effect after the next nightly cleanup.",
    ),
    (
        "Can Quaystone support recover my backups if I forget the passphrase?",
        "No; nobody can decrypt them without it.",
        "If the backup passphrase is lost, the backups cannot be decrypted by anyone, including "
        "Quaystone support.",
    ),
    (
        "Will restoring a file replace the one already on disk?",
        "No, unless --overwrite; otherwise it gets the suffix .restored.",
        "A restored file does not overwrite an existing file of the same name unless --overwrite "
        "is given; otherwise it is saved with the suffix .restored.",
    ),
    (
        "How do I cap how much bandwidth backups use?",
        "Set upload_limit (Mbit/s, per backup set).",
        "Limit the bandwidth a backup may use with upload_limit, in megabits per second; the "
        "limit applies to each backup set separately.",
    ),
    (
        "Why does the agent stop uploading when I unplug my laptop?",
        "It pauses on battery unless backup_on_battery is true.",
        "The agent pauses uploads while the computer runs on battery power, unless "
        "backup_on_battery is true.",
    ),
    (
        "What does the Quaystone error E40 mean?",
        "The vault is full.",
        "E40 The vault is full. Free space or extend the vault.",
    ),
    ("Can the backup agent back up to tape?", "Not covered by the manual.", ""),
]


def build_second_manual_pdf() -> bytes:
    """The Quaystone backup agent guide as a PDF (same bytes every time)."""
    return _render(_Q_PAGES, _Q_HEADER)


SECOND_QUESTIONS: tuple[Question, ...] = _label(SECOND_FILENAME, _Q_TEXTS, _Q_QUESTIONS)
SECOND = Manual(
    SECOND_FILENAME, _Q_HEADER, build_second_manual_pdf, tuple(_Q_TEXTS), SECOND_QUESTIONS
)

MANUALS: tuple[Manual, ...] = (MANUAL, SECOND)
