"""Read the file being imported: a spreadsheet saved as CSV, a JSON list, or an export.

A CSV file is UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" writes one), its
first row names the columns (case, spaces and dashes do not matter: "Start date" is
start_date), an empty cell is no value, and rows are numbered as the spreadsheet numbers them
(the header is row 1). A JSON file is a list of objects of one kind, numbered from 1, or a
whole register as `accessgov export` writes it. Rows are read one at a time: a CSV of 100,000
grants is never held as 100,000 dictionaries.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from accessgov.errors import InputError
from accessgov.transfer import rowschema
from accessgov.transfer.exporting import FORMAT as EXPORT_FORMAT
from accessgov.transfer.exporting import VERSION as EXPORT_VERSION

KINDS = ("people", "accounts", "delegations", "grants")
_TRUE, _FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
_LIST_SEPARATOR = re.compile(r"[\s;,]+")

Record = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Section:
    """The rows of one kind: `rows()` gives (row number, record) afresh each time, and
    `ids()` just the id column's values (to number new rows after every id in the file)."""

    kind: str
    rows: Callable[[], Iterator[tuple[int, Record]]]
    ids: Callable[[], Iterator[Any]]
    header_problems: tuple[tuple[str, str], ...] = ()  # (column, reason) about row 1


@dataclasses.dataclass(frozen=True)
class Source:
    """What a file holds: its format and one section per kind, in the order to import."""

    name: str
    format: str  # csv or json
    sections: tuple[Section, ...]
    organisation: str | None = None  # from an export


def read(path: Path, kind: str | None) -> Source:
    """The file at `path`, checked for its form (not yet its rows)."""
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{path.name} is not UTF-8 text (byte {error.start + 1}); save it "
                         "from the spreadsheet as 'CSV UTF-8'") from None
    if _is_json(path, text):
        return _json_source(path.name, text, kind)
    if kind is None:
        raise InputError(f"say what {path.name} holds with --kind people, accounts, "
                         "delegations or grants")
    return Source(path.name, "csv", (_csv_section(kind, text),))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from None


def _is_json(path: Path, text: str) -> bool:
    if path.suffix.lower() == ".json":
        return True
    if path.suffix.lower() == ".csv":
        return False
    return text.lstrip()[:1] in ("[", "{")


# -- CSV ------------------------------------------------------------------------------------------

def header_name(cell: str) -> str:
    """`Start date` -> `start_date`: how a spreadsheet's column title maps to a column."""
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _csv_section(kind: str, text: str) -> Section:
    schema = rowschema.load(kind)
    try:
        header = next(csv.reader(io.StringIO(text)), None)
    except csv.Error as error:
        raise InputError(f"the file is not readable as CSV ({error})") from None
    if not header or not any(cell.strip() for cell in header):
        raise InputError("the file is empty: the first row must name the columns")
    names = [header_name(cell) for cell in header]
    problems = [(name or f"column {number}", schema.unknown_column(name) if name else
                 "has no title in the header row")
                for number, name in enumerate(names, start=1) if name not in schema.columns]
    problems += [(name, "appears twice in the header row")
                 for number, name in enumerate(names) if name and name in names[:number]]
    problems += [(name, "is missing from the header row (it is required)")
                 for name in schema.required if name not in names]

    converters = [_converter(schema.columns.get(name)) for name in names]

    def rows() -> Iterator[tuple[int, Record]]:
        for number, cells in _cells(text):
            record: Record = {}
            for name, cell, convert in zip(names, cells, converters, strict=False):
                value = cell.strip()
                if value:
                    record[name] = convert(value)
            if len(cells) > len(names) and any(cell.strip() for cell in cells[len(names):]):
                record["(extra cells)"] = (f"the row has {len(cells)} cells, but the header "
                                           f"names {len(names)} columns")
            yield number, record

    def ids() -> Iterator[Any]:
        if "id" in names:
            at = names.index("id")
            yield from (cells[at].strip() for _, cells in _cells(text) if len(cells) > at)

    return Section(kind, rows, ids, tuple(problems))


def _cells(text: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every row after the header that is not blank."""
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    number = 1
    try:
        for cells in reader:
            number += 1
            if any(cell.strip() for cell in cells):  # spreadsheets leave blank rows at the end
                yield number, cells
    except csv.Error as error:
        raise InputError(f"row {number + 1} is not readable as CSV ({error})") from None


def _converter(column: rowschema.Column | None) -> Callable[[str], Any]:
    """How a cell becomes the column's value: text as it is, yes/no as true/false, and a
    list from ids separated by spaces or ';'."""
    if column is not None and "boolean" in column.types:
        return _yes_no
    if column is not None and "array" in column.types:
        return lambda value: [entry for entry in _LIST_SEPARATOR.split(value) if entry]
    return str


def _yes_no(value: str) -> Any:
    lowered = value.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else value


# -- JSON -----------------------------------------------------------------------------------------

def _json_source(name: str, text: str, kind: str | None) -> Source:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{name} is not valid JSON (line {error.lineno}, column "
                         f"{error.colno}: {error.msg})") from None
    if isinstance(data, list):
        if kind is None:
            raise InputError(f"{name} is a list: say what it holds with --kind people, "
                             "accounts, delegations or grants")
        return Source(name, "json", (_json_section(kind, data),))
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise InputError(f"{name} is neither a JSON list of records nor a register written "
                         "by 'accessgov export'")
    return _export_source(name, data, kind)


def _export_source(name: str, data: dict[str, Any], kind: str | None) -> Source:
    if data.get("version") != EXPORT_VERSION:
        raise InputError(f"{name} was written by another version of accessgov export "
                         f"(version {data.get('version')!r}; this one reads {EXPORT_VERSION})")
    unknown = set(data) - {"format", "version", "organisation", *KINDS}
    if unknown:
        raise InputError(f"{name} has parts accessgov does not know: {', '.join(sorted(unknown))}")
    kinds = [kind] if kind else [k for k in KINDS if k in data]
    sections = []
    for each in kinds:
        records = data.get(each, [])
        if not isinstance(records, list):
            raise InputError(f"{name}: '{each}' must be a list of records")
        sections.append(_json_section(each, records))
    organisation = data.get("organisation")
    return Source(name, "json", tuple(sections),
                  organisation if isinstance(organisation, str) else None)


def _json_section(kind: str, records: list[Any]) -> Section:
    def rows() -> Iterator[tuple[int, Record]]:
        for number, record in enumerate(records, start=1):
            yield number, dict(record) if isinstance(record, dict) else {"(record)": record}

    def ids() -> Iterator[Any]:
        return (record.get("id") for record in records if isinstance(record, dict))

    return Section(kind, rows, ids)
