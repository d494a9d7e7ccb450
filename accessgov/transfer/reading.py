"""Read the file being imported: a spreadsheet saved as CSV, a JSON list, or an export.

A CSV file is UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" writes one), its
first row names the columns (case, spaces and dashes do not matter: "Start date" is
start_date), an empty cell is no value, and rows are numbered as the spreadsheet numbers them
(the header is row 1). A JSON file is a list of objects of one kind, numbered from 1, or a
whole register as `accessgov export` writes it. Rows are read one at a time: a CSV of 100,000
grants is never held as 100,000 dictionaries.

A file beyond a limit of accessgov.transfer.limits (its size, rows, columns, cells, JSON
nesting or numbers) is refused whole, with one line naming what is too big.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import reprlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from accessgov.errors import InputError
from accessgov.transfer import limits, rowschema
from accessgov.transfer.exporting import FORMAT as EXPORT_FORMAT
from accessgov.transfer.exporting import VERSION as EXPORT_VERSION

KINDS = ("people", "accounts", "delegations", "grants")
DAY_FIRST, MONTH_FIRST = "dd/mm/yyyy", "mm/dd/yyyy"
DATE_FORMATS = (DAY_FIRST, MONTH_FIRST)
# The dates a row holds (a time may follow a date: 2026-12-31T09:00:00Z).
DATE_COLUMNS = {"start_date", "leave_date", "mfa_verified_on", "archived_at", "expires",
                "requested_at", "decided_at", "revoked_at", "valid_from", "valid_until",
                "created_at"}
# Column titles charities use, as header_name spells them -> the column (per kind).
HEADER_ALIASES: dict[str, dict[str, str]] = {
    "people": {"type": "category", "staff_type": "category", "person_type": "category",
               "job_title": "title", "job": "title", "position": "title",
               "line_manager": "manager", "manager_id": "manager", "full_name": "name",
               "email_address": "email", "e_mail": "email", "person_id": "id",
               "username": "id", "started": "start_date", "start": "start_date",
               "left": "leave_date", "end_date": "leave_date"},
    "accounts": {"account": "id", "account_id": "id", "site": "platform",
                 "network": "platform", "service": "platform", "username": "handle",
                 "account_name": "handle", "what_for": "purpose", "owned_by": "owner",
                 "two_factor": "mfa_method", "2fa": "mfa_method", "mfa": "mfa_method",
                 "recovery": "recovery_email", "link": "url", "web_address": "url"},
    "grants": {"who": "person", "person_id": "person", "account_id": "account",
               "access": "role", "access_level": "role", "level": "role", "why": "reason",
               "approved_by": "decided_by", "approved_on": "decided_at",
               "approved_at": "decided_at", "until": "expires", "end_date": "expires",
               "expiry": "expires"},
    "delegations": {"person": "delegate", "given_by": "granted_by", "from": "valid_from",
                    "until": "valid_until"},
}
# Values as charities write them (lower case, spaces single) -> the value, per column.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "platform": {"twitter": "x", "x (twitter)": "x", "twitter/x": "x", "x/twitter": "x",
                 "fb": "facebook", "ig": "instagram", "insta": "instagram",
                 "tik tok": "tiktok", "you tube": "youtube", "linked in": "linkedin"},
    "category": {"staff": "employee", "member of staff": "employee", "board": "trustee",
                 "board member": "trustee", "chief executive": "ceo",
                 "chief executive officer": "ceo", "freelancer": "contractor",
                 "agency worker": "agency"},
    "role": {"administrator": "admin", "content creator": "editor",
             "viewer": "analyst"},
    "mfa_method": {"authenticator app": "totp", "app": "totp", "text": "sms",
                   "text message": "sms", "security key": "security-key",
                   "yubikey": "security-key", "push": "app-prompt"},
    "access": {"shared": "shared-login", "shared login": "shared-login",
               "own login": "delegated", "own logins": "delegated"},
    "kind": {"group": "messaging-group", "messaging group": "messaging-group",
             "whatsapp group": "messaging-group"},
}
_TRUE, _FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
_LIST_SEPARATOR = re.compile(r"[\s;,]+")

Record = dict[str, Any]
# (row number, the record or None when the row is not a JSON object, a problem with the row
# as a whole or None): what reading finds, kept apart from the row's own fields.
ReadRow = tuple[int, Record | None, str | None]


@dataclasses.dataclass(frozen=True)
class Section:
    """The rows of one kind: `rows()` gives each ReadRow afresh each time, and `ids()` just
    the id column's values (to number new rows after every id in the file)."""

    kind: str
    rows: Callable[[], Iterator[ReadRow]]
    ids: Callable[[], Iterator[Any]]
    header_problems: tuple[tuple[str, str], ...] = ()  # (column, reason) about row 1


@dataclasses.dataclass(frozen=True)
class Source:
    """What a file holds: its format and one section per kind, in the order to import."""

    name: str
    format: str  # csv or json
    sections: tuple[Section, ...]
    organisation: str | None = None  # from an export
    sha256: str = ""  # of the bytes read, for the import's audit event


def read(path: Path, kind: str | None, date_format: str = DAY_FIRST) -> Source:
    """The file at `path`, checked for its form and its size (not yet its rows)."""
    data = _read_bytes(path)
    text = _decode(path.name, data)
    source = _source(path, text, kind, date_format)
    return dataclasses.replace(source, sha256=hashlib.sha256(data).hexdigest())


def _decode(name: str, data: bytes) -> str:
    """The file's text: UTF-16 (with its byte-order mark), UTF-8 (with or without one), or
    else Windows-1252, what Excel's plain "CSV" writes on a British Windows machine."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise InputError(f"{name} starts as UTF-16 text but byte {error.start + 1} is not; "
                             "save it from the spreadsheet as 'CSV UTF-8'") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(f"{name} is neither UTF-8 nor Windows-1252 text (byte "
                             f"{error.start + 1}); save it from the spreadsheet as 'CSV "
                             "UTF-8'") from None


def _source(path: Path, text: str, kind: str | None, date_format: str) -> Source:
    if _is_json(path, text):
        return _json_source(path.name, text, kind)
    if kind is None:
        raise InputError(f"say what {path.name} holds with --kind people, accounts, "
                         "delegations or grants")
    return Source(path.name, "csv", (_csv_section(path.name, kind, text, date_format),))


def _read_bytes(path: Path) -> bytes:
    """The whole file, read once; never more than MAX_FILE_BYTES of it (a device or a pipe
    may have no end)."""
    limit = limits.MAX_FILE_BYTES
    try:
        with path.open("rb") as handle:
            too_big = os.fstat(handle.fileno()).st_size > limit  # known without reading it
            data = b"" if too_big else handle.read(limit + 1)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from None
    if too_big or len(data) > limit:
        raise InputError(f"{path.name} is too big (more than {limit // 2**20:,} MB, the most "
                         "one import reads): split it into smaller files")
    return data


def _is_json(path: Path, text: str) -> bool:
    if path.suffix.lower() == ".json":
        return True
    if path.suffix.lower() == ".csv":
        return False
    return text.lstrip()[:1] in ("[", "{")


# -- CSV ------------------------------------------------------------------------------------------

def header_name(cell: str, kind: str | None = None) -> str:
    """`Start date` -> `start_date`, `Line manager` -> `manager`: how a spreadsheet's column
    title maps to a column (HEADER_ALIASES: the titles charities use)."""
    name = re.sub(r"[\s-]+", "_", cell.strip().lower())
    return HEADER_ALIASES.get(kind or "", {}).get(name, name)


def _delimiter(text: str) -> str:
    """The separator the header row uses: a comma, or a semicolon (Excel where the decimal
    mark is a comma) or a tab (a sheet saved as text)."""
    first = text.split("\n", 1)[0]
    counts = {mark: first.count(mark) for mark in (",", ";", "\t")}
    best = max(counts, key=lambda mark: counts[mark])
    return best if counts[best] else ","


def _csv_section(name: str, kind: str, text: str, date_format: str = DAY_FIRST) -> Section:
    schema = rowschema.load(kind)
    delimiter = _delimiter(text)
    _count_csv_rows(name, text, delimiter)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter), None)
    except csv.Error as error:
        raise InputError(f"the file is not readable as CSV ({_csv_problem(error)})") from None
    if not header or not any(cell.strip() for cell in header):
        raise InputError("the file is empty: the first row must name the columns")
    _check_header(name, header)
    names = [header_name(cell, kind) for cell in header]
    problems = [(column or f"column {number}", schema.unknown_column(column) if column else
                 "has no title in the header row")
                for number, column in enumerate(names, start=1) if column not in schema.columns]
    seen: set[str] = set()
    for column in names:
        if column and column in seen:
            problems.append((column, "appears twice in the header row"))
        seen.add(column)
    problems += [(column, "is missing from the header row (it is required)")
                 for column in schema.required if column not in seen]

    converters = [_converter(schema.columns.get(column), column, date_format)
                  for column in names]

    def rows() -> Iterator[ReadRow]:
        for number, cells in _cells(name, text, delimiter):
            record: Record = {}
            for column, cell, convert in zip(names, cells, converters, strict=False):
                value = cell.strip()
                if value:
                    record[column] = convert(value)
            extra = None
            if len(cells) > len(names) and any(cell.strip() for cell in cells[len(names):]):
                extra = (f"the row has {len(cells)} cells, but the header names {len(names)} "
                         "columns")
            yield number, record, extra

    def ids() -> Iterator[Any]:
        if "id" in names:
            at = names.index("id")
            yield from (cells[at].strip() for _, cells in _cells(name, text, delimiter)
                        if len(cells) > at)

    return Section(kind, rows, ids, tuple(problems))


def _count_csv_rows(name: str, text: str, delimiter: str) -> None:
    """Refuse a file of more than MAX_ROWS rows before reading any: a row ends at a line
    break, so only a file of more lines than that needs counting (a cell may hold breaks)."""
    if text.count("\n") <= limits.MAX_ROWS:
        return
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = sum(1 for _ in reader) - 1  # after the header
    except csv.Error:
        return  # reading the rows says where
    if rows > limits.MAX_ROWS:
        raise InputError(f"{name} has {rows:,} rows; an import takes at most "
                         f"{limits.MAX_ROWS:,}: split it into smaller files")


def _check_header(name: str, header: list[str]) -> None:
    if len(header) > limits.MAX_COLUMNS:
        raise InputError(f"{name}: the header row names {len(header):,} columns; at most "
                         f"{limits.MAX_COLUMNS}")
    for number, cell in enumerate(header, start=1):
        if len(cell) > limits.MAX_COLUMN_NAME:
            raise InputError(f"{name}: the title of column {number} is {len(cell):,} "
                             f"characters long; at most {limits.MAX_COLUMN_NAME}")


def _cells(name: str, text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every row after the header that is not blank."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    next(reader, None)
    number = 1
    try:
        for cells in reader:
            number += 1
            if len(cells) > limits.MAX_COLUMNS:
                raise InputError(f"{name}: row {number} has {len(cells):,} cells; at most "
                                 f"{limits.MAX_COLUMNS}")
            if cells and max(map(len, cells)) > limits.MAX_CELL:
                _too_long_cell(name, number, cells)
            if any(cell.strip() for cell in cells):  # spreadsheets leave blank rows at the end
                yield number, cells
    except csv.Error as error:
        raise InputError(f"row {number + 1} is not readable as CSV "
                         f"({_csv_problem(error)})") from None


def _too_long_cell(name: str, number: int, cells: list[str]) -> None:
    column, cell = next((column, cell) for column, cell in enumerate(cells, start=1)
                        if len(cell) > limits.MAX_CELL)
    raise InputError(f"{name}: row {number}, column {column} holds {len(cell):,} characters; "
                     f"a cell holds at most {limits.MAX_CELL:,}")


def _csv_problem(error: csv.Error) -> str:
    """What the csv module found, in words (its own limit on a cell is far above ours)."""
    if "field larger than field limit" in str(error):
        return f"a cell holds more than {limits.MAX_CELL:,} characters, the most a cell holds"
    return str(error)


def _converter(column: rowschema.Column | None, name: str = "",
               date_format: str = DAY_FIRST) -> Callable[[str], Any]:
    """How a cell becomes the column's value: text as it is, yes/no as true/false, a list
    from ids separated by spaces or ';', a choice in any case or as charities write it
    ("Twitter", "Staff"), and a date as the spreadsheet shows it (31/12/2026)."""
    if column is not None and "boolean" in column.types:
        return _yes_no
    if column is not None and "array" in column.types:
        return lambda value: [entry for entry in _LIST_SEPARATOR.split(value) if entry]
    if column is not None and column.enum is not None:
        choices = {str(choice) for choice in column.enum if choice is not None}
        aliases = VALUE_ALIASES.get(name, {})
        return lambda value: _choice(value, choices, aliases)
    if name in DATE_COLUMNS:
        return lambda value: _iso_date(value, date_format)
    return str


def _choice(value: str, choices: set[str], aliases: dict[str, str]) -> str:
    lowered = re.sub(r"\s+", " ", value.strip().lower())
    found = aliases.get(lowered, lowered)
    return found if found in choices else value


_SLASHED = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")


def _iso_date(value: str, date_format: str) -> str:
    """31/12/2026 (or 31.12.2026, 31-12-2026) as 2026-12-31; ISO dates as they are."""
    found = _SLASHED.fullmatch(value.strip())
    if found is None:
        return value
    first, second, year = found.groups()
    day, month = (first, second) if date_format == DAY_FIRST else (second, first)
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _yes_no(value: str) -> Any:
    lowered = value.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else value


# -- JSON -----------------------------------------------------------------------------------------

_CONTAINERS = (list, dict)


class _Unreadable(Exception):
    """What makes the JSON text unreadable or too big, in words."""


def _json_source(name: str, text: str, kind: str | None) -> Source:
    data = _parse_json(name, text)
    if isinstance(data, list):
        if kind is None:
            raise InputError(f"{name} is a list: say what it holds with --kind people, "
                             "accounts, delegations or grants")
        _count_records(name, len(data))
        return Source(name, "json", (_json_section(name, kind, data),))
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise InputError(f"{name} is neither a JSON list of records nor a register written "
                         "by 'accessgov export'")
    return _export_source(name, data, kind)


def _parse_json(name: str, text: str) -> Any:
    """The JSON value of `text`, refused when it nests more than MAX_DEPTH deep or writes a
    number longer than MAX_NUMBER_CHARS (Python's int() refuses 4,301 digits)."""
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_real,
                          parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise InputError(f"{name} is not valid JSON (line {error.lineno}, column "
                         f"{error.colno}: {error.msg})") from None
    except _Unreadable as error:
        raise InputError(f"{name} {error}") from None
    except RecursionError:  # nested deeper than Python's own limit (about 1,000)
        too_deep = True
    else:
        too_deep = _deeper_than(data, limits.MAX_DEPTH)
    if too_deep:
        raise InputError(f"{name} nests lists and objects more than {limits.MAX_DEPTH} "
                         "levels deep, the most an import reads (an export nests 4)")
    return data


def _integer(text: str) -> int:
    _short_number(text)
    return int(text)


def _real(text: str) -> float:
    _short_number(text)
    return float(text)


def _short_number(text: str) -> None:
    if len(text) > limits.MAX_NUMBER_CHARS:
        raise _Unreadable(f"holds a number {len(text):,} characters long; at most "
                          f"{limits.MAX_NUMBER_CHARS}")


def _constant(text: str) -> NoReturn:
    raise _Unreadable(f"is not valid JSON ({text} is not a JSON number)")


def _deeper_than(data: Any, depth: int) -> bool:
    """Whether lists and objects nest more than `depth` deep in `data` (one level at a time:
    the whole of a big file is one pass over its records)."""
    level = [data] if type(data) in _CONTAINERS else []
    for _ in range(depth):
        if not level:
            return False
        inner: list[Any] = []
        for node in level:
            for value in node.values() if type(node) is dict else node:
                if type(value) in _CONTAINERS:  # json.loads makes plain lists and dicts
                    inner.append(value)
        level = inner
    return bool(level)


def _count_records(name: str, count: int) -> None:
    if count > limits.MAX_ROWS:
        raise InputError(f"{name} holds {count:,} records; an import takes at most "
                         f"{limits.MAX_ROWS:,}: split it into smaller files")


def _export_source(name: str, data: dict[str, Any], kind: str | None) -> Source:
    if data.get("version") != EXPORT_VERSION:
        raise InputError(f"{name} was written by another version of accessgov export "
                         f"(version {_shown(data.get('version'))}; this one reads "
                         f"{EXPORT_VERSION})")
    unknown = set(data) - {"format", "version", "organisation", *KINDS}
    if unknown:
        raise InputError(f"{name} has parts accessgov does not know: {_listed(unknown)}")
    kinds = [kind] if kind else [k for k in KINDS if k in data]
    sections = []
    for each in kinds:
        records = data.get(each, [])
        if not isinstance(records, list):
            raise InputError(f"{name}: '{each}' must be a list of records")
        sections.append(_json_section(name, each, records))
    _count_records(name, sum(len(data.get(each, [])) for each in kinds))
    organisation = data.get("organisation")
    return Source(name, "json", tuple(sections),
                  organisation if isinstance(organisation, str) else None)


def _json_section(name: str, kind: str, records: list[Any]) -> Section:
    def rows() -> Iterator[ReadRow]:
        for number, record in enumerate(records, start=1):
            if isinstance(record, dict):
                _check_record(name, kind, number, record)
                yield number, dict(record), None
            else:
                yield number, None, None

    def ids() -> Iterator[Any]:
        return (record.get("id") for record in records if isinstance(record, dict))

    return Section(kind, rows, ids)


def _check_record(name: str, kind: str, number: int, record: Record) -> None:
    """Refuse a record with more fields, or a longer name, text or list, than a row holds."""
    where = f"{name}: record {number} of {kind}"
    if len(record) > limits.MAX_COLUMNS:
        raise InputError(f"{where} has {len(record):,} fields; at most {limits.MAX_COLUMNS}")
    for key, value in record.items():
        if len(key) > limits.MAX_COLUMN_NAME:
            raise InputError(f"{where} has a field name {len(key):,} characters long; at "
                             f"most {limits.MAX_COLUMN_NAME}")
        kind_of = type(value)
        if kind_of is str:
            if len(value) > limits.MAX_CELL:
                raise InputError(f"{where}: {key} holds {len(value):,} characters; at most "
                                 f"{limits.MAX_CELL:,}")
        elif kind_of is list:
            _check_list(where, key, value)


def _check_list(where: str, key: str, value: list[Any]) -> None:
    if len(value) > limits.MAX_CELL:
        raise InputError(f"{where}: {key} lists {len(value):,} entries; at most "
                         f"{limits.MAX_CELL:,}")
    for text in value:
        if isinstance(text, str) and len(text) > limits.MAX_CELL:
            raise InputError(f"{where}: {key} holds {len(text):,} characters; at most "
                             f"{limits.MAX_CELL:,}")


def _shown(value: Any) -> str:
    """A value from the file, quoted short enough for a one-line message."""
    return reprlib.repr(value)


def _listed(names: set[str]) -> str:
    """Names from the file, the first few, each cut short, for a one-line message."""
    shown = [name if len(name) <= 30 else f"{name[:30]}..." for name in sorted(names)[:5]]
    more = f" and {len(names) - 5:,} more" if len(names) > 5 else ""
    return ", ".join(shown) + more
