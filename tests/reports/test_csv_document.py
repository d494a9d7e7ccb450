"""`csv_document`: the CSV of big reports, read row by row, written exactly as a document of
records is (so any rule the records' CSV follows for cells holds for reports too)."""

from __future__ import annotations

import csv
import io

from accessgov.reports.document import Document, Rows
from accessgov.reports.formats import csv_document
from accessgov.reports.rendering import render

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


def test_the_same_cells_as_a_document_of_records() -> None:
    values = (tuple(row[column] for column in COLUMNS) for row in ROWS)
    records = Document(rows=Rows(columns=COLUMNS, records=ROWS))
    assert csv_document(values, COLUMNS) == render(records, "csv")


def test_a_byte_order_mark_for_spreadsheets_and_a_header_when_empty() -> None:
    text = csv_document(iter([("Zoë",)]), ("name",), bom=True)
    assert text.startswith("\ufeffname\n")
    assert list(csv.reader(io.StringIO(text.encode("utf-8").decode("utf-8-sig")))) == [
        ["name"], ["Zoë"]]
    assert csv_document(iter([]), ("a", "b")) == "a,b\n"
