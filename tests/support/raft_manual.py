"""A small manual as text extraction leaves its pages: front matter, a contents page with dot
leaders, a licence page, chapters that teach (definitions, procedures, caveats) and an
index, for tests of the questions written from documents (`services/dataset`)."""

from __future__ import annotations

FRONT = (
    "The Harbour Tools Manual\n"
    "This manual is for Harbour Tools, version 4.2.2, released in June 2026.\n"
    "Second edition, printed by the Velmora harbour board."
)
CONTENTS = (
    "Contents\n"
    "1 Introduction and preliminaries . . . . . . . . . . . . . . 1\n"
    "1.1 The harbour tools environment . . . . . . . . . . . . . 1\n"
    "1.2 Related software and documentation . . . . . . . . . . 2\n"
    "1.3 Using the tools interactively . . . . . . . . . . . . . 2\n"
    "2 Moorings and berths . . . . . . . . . . . . . . . . . . . 3\n"
    "2.1 Booking a berth . . . . . . . . . . . . . . . . . . . . 3\n"
    "2.2 Tide tables . . . . . . . . . . . . . . . . . . . . . . 4\n"
    "3 Index . . . . . . . . . . . . . . . . . . . . . . . . . . 6"
)
LICENCE = (
    "Copyright (C) 2026 The Velmora Harbour Board.\n"
    "Permission is granted to make and distribute verbatim copies of this manual provided"
    " the copyright notice and this permission notice are preserved on all copies.\n"
    "This program is distributed WITHOUT ANY WARRANTY; without even the implied warranty of"
    " MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE."
)
CHAPTERS = [
    "1 Introduction and preliminaries\n"
    "The harbour tools are a set of programs that keep the records of a small harbour."
    " A berth is a place in the harbour where one boat is kept for a season.\n\n"
    "1.3 Using the tools interactively\n"
    "To open the tide console, run harbour-tide from a terminal. The tide console does not"
    " show forecasts when the gauge is offline.",
    "2 Moorings and berths\n"
    "A mooring is a permanent anchor on the sea bed that a boat ties to. Mooring fees are"
    " paid to the harbour master every April.\n\n"
    "2.1 Booking a berth\n"
    "Open the berth planner and choose a free berth. Enter the boat's name and length, then"
    " press Book. A berth booking cannot be changed after the season has started.",
    "2.2 Tide tables\n"
    "A tide table is a list of the times and heights of high and low water for each day."
    " The planner prints tide tables only if a printer is configured.\n\n"
    "The harbour gauge records the water level every ten minutes. The gauge requires a"
    " clear line of sight to the relay mast on the north pier.",
    "2.3 Keeping the log\n"
    "The harbour log is a record of every boat that enters or leaves the harbour. Log"
    " entries are checked by the harbour master every Friday. You can export the log by"
    " choosing Export from the File menu.",
]
INDEX = (
    "Index\n"
    "anchor, 3\n"
    "berth, 1, 3\n"
    "booking, 3, 4\n"
    "gauge, 4\n"
    "harbour log, 5\n"
    "mooring fees, 3\n"
    "tide console, 2\n"
    "tide table, 4"
)
PAGES = [FRONT, CONTENTS, LICENCE, *CHAPTERS, INDEX]
TEACHING_PAGES = {4, 5, 6, 7}  # 1-based page numbers of the chapters
