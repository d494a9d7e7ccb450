"""Draw records as a table, Markdown, JSON or CSV, for the screen or a file to forward.

Tables are drawn by tabulate, which measures text with wcwidth so that wide (CJK) and
combining characters line up. Both are imported only inside the functions that draw a table:
together they cost tens of milliseconds, and `--format json` and `--format csv` (what scripts
use) must start fast.

A human table can be fitted to a width (see `as_table`); who knows the width, and whether
there is one, is the caller's business: the CLI passes its terminal's, or None for a file.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from accessgov.common.validate import UNSAFE
from accessgov.errors import InputError

FORMATS = ("table", "json", "csv")

# Wider cells wrap onto more lines even with no width to fit (a file, a pipe), so one long
# reason cannot make every line of a report hundreds of columns wide.
WIDEST_CELL = 60
# Long text wrapped to this width still reads well: a droppable column is hidden only when
# the table would not fit even with its longer cells wrapped to this.
COMFORTABLE_WRAP = 30
# A column being wrapped to fit keeps at least this many columns (or its header's longest
# word), so words are not shredded into a letter or two per line.
NARROWEST_WRAP = 8
# tabulate's "simple" format: two spaces between columns, no outer border.
_GAP = 2

# What must never reach a terminal raw (C0 and C1 controls, DEL, line separators, bidirectional
# overrides, lone surrogates): the same characters the input checks refuse.
_UNSAFE = UNSAFE
# What JSON leaves raw but a terminal acts on: JSON itself escapes only the C0 controls.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
# What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection); each
# sorts before "A", which `csv_document` relies on.
_FORMULA_STARTS = frozenset("=+-@\t\r")
# Markdown punctuation that could start a link, an image, emphasis, code, raw HTML, or end a
# table cell (`|`); a backslash before it makes it plain text.
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]<>|~&!])")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return str(value)


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    if char in "\n\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` safe to print on a terminal: on one line, with every control shown as an escape.

    Newlines and tabs become spaces; other controls become Python-style escapes (`\\x1b`,
    `\\x0d`, `\\u2028`), so stored text cannot move the cursor, recolour or retitle the
    terminal, overwrite a line or reorder what is shown. Input checks refuse such text;
    this is the second guard, for data stored before them or by other means.
    """
    return _UNSAFE.sub(_escape_control, text)


def _text(value: Any) -> str:
    return visible(_cell(value))


def _header(column: str) -> str:
    return visible(column.replace("_", " "))


def key_values(mapping: Mapping[str, Any]) -> str:
    """A mapping on one line as `key=value, key=value` (the audit log's details, in a table)."""
    return ", ".join(f"{key}={value}" for key, value in mapping.items())


def as_json(data: Any) -> str:
    """Pretty JSON, the form the schemas in schemas/ describe.

    Text stays readable (not \\u-escaped), except the characters that would act on a terminal
    (see `visible`): those are written as JSON escapes, which read back as the same text.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def as_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *,
           bom: bool = False) -> str:
    """CSV of records with a header row, written by `csv_document` (see there)."""
    return csv_document((tuple(row.get(column) for column in columns) for row in rows), columns,
                        bom=bom)


def _tabulate(cells: list[list[str]], headers: list[str], tablefmt: str,
              **options: Any) -> str:
    """tabulate with accessgov's settings: text stays text, as stored, no padding added."""
    import inspect  # loaded already: tabulate's dataclasses import it

    import tabulate  # here only: see the module docstring

    # Numbers are not reformatted nor right-aligned ("1.10" stays "1.10", ids stay text).
    # Whitespace is kept, as the renderer before tabulate kept it: it is part of the value
    # (tabulate 0.9 reads the module flag; 0.10 ignores it and takes an argument instead).
    if "preserve_whitespace" in inspect.signature(tabulate.tabulate).parameters:
        options["preserve_whitespace"] = True
    # A column is as wide as its header or widest cell, as before tabulate: its default two
    # extra columns after each header only waste a narrow terminal. Both settings are module
    # flags, so they are put back for any other user of tabulate in this process.
    saved = tabulate.PRESERVE_WHITESPACE, tabulate.MIN_PADDING
    tabulate.PRESERVE_WHITESPACE, tabulate.MIN_PADDING = True, 0
    try:
        return tabulate.tabulate(cells, headers, tablefmt=tablefmt, disable_numparse=True,
                                 **options)
    finally:
        tabulate.PRESERVE_WHITESPACE, tabulate.MIN_PADDING = saved


def _check_droppable(columns: Sequence[str], droppable: Sequence[str]) -> None:
    unknown = [name for name in droppable if name not in columns[1:]]
    if unknown:
        # A typo here would silently never drop anything; the first column is the id.
        raise ValueError(f"droppable columns {unknown} are not among {list(columns[1:])}")


def _drop(columns: list[str], droppable: Sequence[str], needs: Mapping[str, int],
          width: int) -> list[str]:
    """Hide droppable columns, first named first, until what the others need fits."""
    def total(names: list[str]) -> int:
        return sum(needs[name] for name in names) + _GAP * (len(names) - 1)

    shown = list(columns)
    for name in droppable:
        if total(shown) <= width:
            break
        shown.remove(name)
    return shown


def _shrink(widths: list[int], floors: list[int], excess: int) -> list[int]:
    """Take `excess` columns from the widest columns, one at a time, down to their floors."""
    widths = list(widths)
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > floors[i]]
        if not shrinkable:
            break  # narrower than the id and the floors: let the terminal wrap the rest
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


class _Measure:
    """Display widths (wcwidth: a CJK character is 2, a combining mark 0) of a table's text."""

    def __init__(self, columns: Sequence[str], cells: list[list[str]]) -> None:
        import wcwidth  # here only: see the module docstring

        self._wcswidth: Callable[[str], int] = wcwidth.wcswidth
        self.header = {name: self.of(_header(name)) for name in columns}
        self.cells = {name: max(self.of(line[i]) for line in cells)
                      for i, name in enumerate(columns)}
        self.word = {name: max(self.of(word) for word in _header(name).split() or [""])
                     for name in columns}

    def of(self, text: str) -> int:
        """The display width of one line of text (never negative: controls are escaped)."""
        return max(self._wcswidth(text), 0)

    def natural(self, name: str, key: bool) -> int:
        """The column's width unfitted: its header or widest cell (capped unless the key)."""
        cells = self.cells[name] if key else min(self.cells[name], WIDEST_CELL)
        return max(cells, self.header[name])

    def comfortable(self, name: str, key: bool) -> int:
        """The column's width with its long cells wrapped to `COMFORTABLE_WRAP`."""
        natural = self.natural(name, key)
        return natural if key else min(natural, max(COMFORTABLE_WRAP, self.header[name]))

    def floor(self, name: str, key: bool) -> int:
        """The narrowest the column may be wrapped to (the key column is never wrapped)."""
        natural = self.natural(name, key)
        if key:
            return natural
        return min(natural, max(NARROWEST_WRAP, self.word[name]))


def _layout(columns: Sequence[str], measure: _Measure, droppable: Sequence[str],
            width: int | None) -> dict[str, int]:
    """The columns to show, in order, and the width each may take."""
    key = columns[0]
    natural = {name: measure.natural(name, name == key) for name in columns}
    if width is None:
        return natural
    comfortable = {name: measure.comfortable(name, name == key) for name in columns}
    shown = _drop(list(columns), droppable, comfortable, width)
    excess = sum(natural[name] for name in shown) + _GAP * (len(shown) - 1) - width
    floors = [measure.floor(name, name == key) for name in shown]
    widths = _shrink([natural[name] for name in shown], floors, excess)
    return dict(zip(shown, widths, strict=True))


def as_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
             empty: str = "(none)", *, droppable: Sequence[str] = (),
             width: int | None = None) -> str:
    """Columns lined up under a ruled header, fitted to `width` display columns.

    The first column is the key (the id): it is never hidden nor wrapped. With a `width`,
    the `droppable` columns are hidden, the first named first, until the table would fit
    with long text wrapped to `COMFORTABLE_WRAP`; then the widest columns wrap onto more
    lines until it fits, none below `NARROWEST_WRAP`. A `width` of None (a file, a pipe)
    fits nothing, but cells wider than `WIDEST_CELL` always wrap. Controls in cells are shown
    as escapes (see `visible`).
    """
    _check_droppable(columns, droppable)
    if not rows:
        return empty + "\n"
    cells = [[_text(row.get(column)) for column in columns] for row in rows]
    measure = _Measure(columns, cells)
    widths = _layout(columns, measure, droppable, width)
    index = [list(columns).index(name) for name in widths]
    wrap_cells = [w if measure.cells[n] > w else None for n, w in widths.items()]
    wrap_headers = [w if measure.header[n] > w else None for n, w in widths.items()]
    # tabulate wraps by display width. It is told only when some column needs it: its
    # wrapping pass visits every cell, which costs seconds on a big register.
    text = _tabulate([[line[i] for i in index] for line in cells],
                     [_header(name) for name in widths], "simple",
                     maxcolwidths=wrap_cells if any(wrap_cells) else None,
                     maxheadercolwidths=wrap_headers if any(wrap_headers) else None)
    return "\n".join(line.rstrip() for line in text.split("\n")) + "\n"


def _markdown(text: str) -> str:
    return _MARKDOWN_ACTIVE.sub(r"\\\1", text)


def as_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table, for documents such as review exports.

    Every column is kept and nothing is wrapped (a Markdown row is one line). Controls are
    shown as escapes (see `visible`), and Markdown punctuation is escaped so that a cell can
    neither end its cell nor become a link, an image, emphasis or raw HTML.
    """
    cells = [[_markdown(_text(row.get(column))) for column in columns] for row in rows]
    headers = [_markdown(_header(column)) for column in columns]
    return _tabulate(cells, headers, "github") + "\n"


def as_record(record: Mapping[str, Any], width: int | None = None) -> str:
    """One record as `field: value` lines; nested lists of records as indented tables.

    Only what is there is shown: empty fields are left out, and an empty list is one plain
    line ("no grants"). Field values are not wrapped (a long one is left whole, to copy);
    nested tables are fitted to `width`, less their indent.
    """
    scalars = {key: value for key, value in record.items()
               if not _nested(value) and _present(value)}
    width_of_keys = max((len(_header(key)) for key in scalars), default=0)
    lines = [f"{_header(key):<{width_of_keys}}  {_text(value)}".rstrip()
             for key, value in scalars.items()]
    for key, value in record.items():
        if isinstance(value, dict):
            lines.append(f"\n{_header(key)}:")
            lines += [f"  {_header(k)}: {_text(v)}".rstrip() for k, v in value.items()
                      if _present(v)]
        elif value == []:
            lines.append(f"\nno {_header(key)}")
        elif _nested(value):
            lines.append(f"\n{_header(key)}:")
            table = as_table(value, list(value[0].keys()),
                             width=None if width is None else width - 2)
            lines += [f"  {line}".rstrip() for line in table.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def _nested(value: Any) -> bool:
    """A part of a record shown under its own heading: a record, or a list of records (an
    empty list too, shown as "no ...")."""
    return isinstance(value, dict) or value == [] or (
        isinstance(value, list) and isinstance(value[0], dict))


def _present(value: Any) -> bool:
    return value is not None and value != ""


def write_private(path: Path, text: str) -> None:
    """Write an export 0600 (it names people and their access), whatever was at `path`.

    An existing file is made 0600 before it is emptied. A symbolic link is refused, not
    followed (it could lead anywhere), and so is anything but a regular file (a device, a
    pipe). Every failure is one plain InputError; a file left half-written is emptied.
    """
    if os.path.islink(path):
        raise InputError(f"cannot write {path}: it is a symbolic link; give the file's real path")
    if os.path.lexists(path) and not os.path.isfile(path):
        raise InputError(f"cannot write {path}: it is not a regular file")
    existed = os.path.lexists(path)
    flags = (os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as error:
        raise _cannot_write(path, error) from None
    try:
        _make_private_and_empty(path, fd)
        with os.fdopen(os.dup(fd), "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        _discard(path, fd, existed)
        raise _cannot_write(path, error) from None
    except BaseException:
        _discard(path, fd, existed)
        raise
    os.close(fd)


def _make_private_and_empty(path: Path, fd: int) -> None:
    """Checked on the open file itself, so nothing can be swapped in after the checks."""
    import stat

    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise InputError(f"cannot write {path}: it is not a regular file")
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)
    os.set_blocking(fd, True)
    os.ftruncate(fd, 0)


def _discard(path: Path, fd: int, existed: bool) -> None:
    """Leave no half-written export: remove a file we made, empty one that was there."""
    try:
        if existed:
            os.ftruncate(fd, 0)
        else:
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)


_WRITE_PROBLEMS = {
    errno.ENOENT: "its folder does not exist",
    errno.ENOTDIR: "its folder does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EISDIR: "it is a folder",
    errno.ELOOP: "it is a symbolic link; give the file's real path",
    errno.EROFS: "the disk is read-only",
    errno.ENXIO: "it is not a regular file",
}


def _cannot_write(path: Path, error: OSError) -> InputError:
    problem = _WRITE_PROBLEMS.get(error.errno or 0, error.strerror or "it could not be written")
    return InputError(f"cannot write {path}: {problem}")


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
    # numbers as str() does, as `_cell` does: only the other values need `_cell`.
    writer.writerows([(value if value >= "A" or value[:1] not in formula else "'" + value)
                      if type(value) is str
                      else value if value is None or type(value) is int else _cell(value)
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
