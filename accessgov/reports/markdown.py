"""Markdown documents made of titled sections: tables of records, and tables of fields.

Every value goes through `as_markdown` (tabulate's "github" tables), which escapes Markdown
punctuation and controls, so nothing a person typed can become a link, a heading or HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accessgov.reports.document import Section
from accessgov.reports.tables import as_markdown


def fields_table(fields: Mapping[str, Any]) -> str:
    """A two-column table of `field | value` lines."""
    rows = [{"field": key.replace("_", " "), "value": value} for key, value in fields.items()]
    return as_markdown(rows, ("field", "value"))


def records_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                  empty: str = "None.") -> str:
    """A table of records, or `empty` when there are none."""
    return as_markdown(rows, columns) if rows else f"{empty}\n"


def document(title: str, sections: Sequence[Section]) -> str:
    """`# title`, then `## heading` and its body for each section, `###` for subsections.
    The title and headings are accessgov's own words (plus ids it has checked), never free
    text: they are written as they are."""
    parts = [f"# {title}\n"] if title else []
    for section in sections:
        parts.append(_titled(section, 2))
    return "".join(parts)


def _titled(section: Section, level: int) -> str:
    heading = f"\n{'#' * level} {section.heading}\n" if section.heading else ""
    return f"{heading}\n{_body(section, level + 1)}"


def _body(section: Section, level: int) -> str:
    """A section's fields, rows and paragraph, then its subsections one level down."""
    parts = []
    if section.fields:
        parts.append(fields_table(section.fields))
    if section.rows is not None:
        rows = section.rows
        parts.append(records_table(list(rows.as_records()),
                                   rows.markdown_columns or rows.columns, rows.markdown_empty))
    if section.text:
        parts.append(f"{section.text}\n")
    parts += [_titled(subsection, level) for subsection in section.sections]
    return "".join(parts)
