"""Render records as a table, JSON or CSV, for the screen or a file to forward.

A plain table renderer is built in: it is all accessgov needs and costs nothing to import.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FORMATS = ("table", "json", "csv")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return str(value)


def as_json(data: Any) -> str:
    """Pretty JSON, the form the schemas in schemas/ describe."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def as_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row; nested values are written as JSON."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def as_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
             empty: str = "(none)") -> str:
    """Columns padded to line up, with a ruled header; long cells are cut short."""
    if not rows:
        return empty + "\n"
    cells = [[_cell(row.get(column)).replace("\n", " ") for column in columns] for row in rows]
    cells = [[cell if len(cell) <= 60 else cell[:57] + "..." for cell in line] for line in cells]
    headers = [column.replace("_", " ") for column in columns]
    widths = [max(len(headers[i]), *(len(line[i]) for line in cells)) for i in range(len(columns))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
              for line in cells]
    return "\n".join(lines) + "\n"


def as_record(record: Mapping[str, Any]) -> str:
    """One record as `field: value` lines; nested lists of records as indented tables."""
    scalars = {key: value for key, value in record.items()
               if not (isinstance(value, list) and value and isinstance(value[0], dict))
               and not isinstance(value, dict)}
    width = max((len(key) for key in scalars), default=0)
    lines = [f"{key.replace('_', ' '):<{width}}  {_cell(value)}".rstrip()
             for key, value in scalars.items()]
    for key, value in record.items():
        if isinstance(value, dict):
            lines.append(f"\n{key.replace('_', ' ')}:")
            lines += [f"  {k.replace('_', ' ')}: {_cell(v)}" for k, v in value.items()]
        elif key not in scalars:
            lines.append(f"\n{key.replace('_', ' ')}:")
            table = as_table(value, list(value[0].keys()))
            lines += [f"  {line}" for line in table.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def render_rows(rows: Sequence[Mapping[str, Any]], fmt: str, columns: Sequence[str],
                table_columns: Sequence[str] | None = None) -> str:
    """A list in the chosen format; the table may show fewer columns than JSON and CSV."""
    if fmt == "json":
        return as_json(list(rows))
    if fmt == "csv":
        return as_csv(rows, columns)
    return as_table(rows, table_columns or columns)


def render_record(record: Mapping[str, Any], fmt: str) -> str:
    """One record in the chosen format."""
    if fmt == "json":
        return as_json(record)
    if fmt == "csv":
        flat = {k: v for k, v in record.items() if not isinstance(v, list | dict)}
        return as_csv([flat], list(flat))
    return as_record(record)


def write_private(path: Path, text: str) -> None:
    """Write an export 0600: it names people and their access."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
