"""Tables for people: on a terminal fitted to its width, and in Markdown for documents.

Tables are drawn by tabulate, which measures text with wcwidth so that wide (CJK) and
combining characters line up. Both are imported only inside the functions that draw a table:
together they cost tens of milliseconds, and `--format json` and `--format csv` (what scripts
use) must start fast.

A human table can be fitted to a width (see `as_table`); who knows the width, and whether
there is one, is the caller's business: the CLI passes its terminal's, or None for a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from accessgov.reports.text import header as _header
from accessgov.reports.text import text as _text

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

# Markdown punctuation that could start a link, an image, emphasis, code, raw HTML, or end a
# table cell (`|`); a backslash before it makes it plain text.
_MARKDOWN_ACTIVE = r"([\\`*_\[\]<>|~&!])"


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
    return re.sub(_MARKDOWN_ACTIVE, r"\\\1", text)


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
