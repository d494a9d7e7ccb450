"""The machine-readable formats: JSON (as the schemas in schemas/ describe it) and CSV (for
spreadsheets). Neither loads tabulate nor wcwidth: what scripts use must start fast.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from accessgov.reports.text import cell

# What JSON leaves raw but a terminal acts on: JSON itself escapes only the C0 controls.
_JSON_UNSAFE = "[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
# What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection); each
# sorts before "A", which `csv_document` relies on.
_FORMULA_STARTS = frozenset("=+-@\t\r")


def as_json(data: Any) -> str:
    """Pretty JSON, the form the schemas in schemas/ describe.

    Text stays readable (not \\u-escaped), except the characters that would act on a terminal
    (see `visible`): those are written as JSON escapes, which read back as the same text.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if text.isascii():  # every such character is beyond ASCII: nothing to escape
        return text
    return re.sub(_JSON_UNSAFE, lambda match: f"\\u{ord(match.group()):04x}", text)


def csv_document(rows: Iterable[Sequence[Any]], columns: Sequence[str], *,
                 bom: bool = False) -> str:
    """CSV with a header row, of rows given as value sequences in `columns` order and read one
    at a time (a report may have 100,000): every CSV accessgov writes is written here.

    Nested values are written as JSON, None as an empty cell, True and False as yes and no.
    A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
    apostrophe (OWASP's rule against CSV injection): a spreadsheet would otherwise run it as
    a formula (`=HYPERLINK(...)`); with it, the spreadsheet shows the text as it is.
    `bom`: start with a UTF-8 byte-order mark, which spreadsheets (Excel) need to read
    accented names such as "Zoë" correctly.
    """
    import csv

    lines = _Lines(["\ufeff"] if bom else [])
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(columns)
    formula = _FORMULA_STARTS
    # Cheap enough for 100,000 rows: every character that starts a formula sorts before "A",
    # so most text (ids, names) is passed by one comparison. csv writes None as "" and
    # numbers as str() does, as `cell` does: only the other values need `cell`.
    writer.writerows([(value if value >= "A" or value[:1] not in formula else "'" + value)
                      if type(value) is str
                      else value if value is None or type(value) is int else cell(value)
                      for value in row] for row in rows)
    text = "".join(lines)
    if "\r" in text:
        # Python 3.11's csv leaves a carriage return in a cell unquoted: the row would end
        # there and what follows would start a new row, its formulas unchecked. Input checks
        # refuse it, so one search finds none; data stored by other means may hold one.
        text = "".join(_quoted(line) if "\r" in line else line for line in lines)
    return text


class _Lines(list[str]):
    """Where csv.writer writes: one item per row (it writes a row in one call)."""

    write = list.append


def _quoted(line: str) -> str:
    """One row's CSV line written again with every cell quoted, carriage returns included."""
    import csv

    stand_in = next(char for char in map(chr, range(0xE000, 0xF900)) if char not in line)
    [cells] = csv.reader(io.StringIO(line.replace("\r", stand_in), newline=""))
    again = _Lines()
    csv.writer(again, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(
        [cell.replace(stand_in, "\r") for cell in cells])
    return again[0]
