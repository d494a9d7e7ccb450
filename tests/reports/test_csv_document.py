"""`csv_document`: the CSV of big reports, read row by row, written exactly as `as_csv`
writes the same rows (so any rule `as_csv` follows for cells holds for reports too)."""

from __future__ import annotations

import csv
import io

from accessgov.reports.output import as_csv, csv_document

COLUMNS = ("id", "name", "count", "flag", "list", "empty")
ROWS = [
    {"id": "G-0001", "name": "Zoë, \"the\" lead", "count": 3, "flag": True,
     "list": ["a", "b"], "empty": None},
    {"id": "G-0002", "name": "=1+2", "count": 0, "flag": False, "list": [], "empty": ""},
    {"id": "G-0003", "name": "line one\nline two", "count": -7, "flag": None,
     "list": {"k": "v"}, "empty": "@sum"},
    {"id": "G-0004", "name": "+44 7700 900123", "count": 10**12, "flag": False,
     "list": None, "empty": "\t-x"},
]


def test_the_same_cells_as_as_csv() -> None:
    values = (tuple(row[column] for column in COLUMNS) for row in ROWS)
    assert csv_document(values, COLUMNS) == as_csv(ROWS, COLUMNS)


def test_a_byte_order_mark_for_spreadsheets_and_a_header_when_empty() -> None:
    text = csv_document(iter([("Zoë",)]), ("name",), bom=True)
    assert text.startswith("\ufeffname\n")
    assert list(csv.reader(io.StringIO(text.encode("utf-8").decode("utf-8-sig")))) == [
        ["name"], ["Zoë"]]
    assert csv_document(iter([]), ("a", "b")) == "a,b\n"
