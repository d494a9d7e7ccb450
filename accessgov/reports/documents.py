"""Markdown documents made of titled sections: tables of records, and tables of fields.

Every value goes through `as_markdown` (tabulate's "github" tables), which escapes Markdown
punctuation and controls, so nothing a person typed can become a link, a heading or HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accessgov.reports.output import as_markdown


def fields_table(fields: Mapping[str, Any]) -> str:
    """A two-column table of `field | value` lines."""
    rows = [{"field": key.replace("_", " "), "value": value} for key, value in fields.items()]
    return as_markdown(rows, ("field", "value"))


def records_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                  empty: str = "None.") -> str:
    """A table of records, or `empty` when there are none."""
    return as_markdown(rows, columns) if rows else f"{empty}\n"


def document(title: str, sections: Sequence[tuple[str, str]]) -> str:
    """`# title`, then `## heading` and its body for each section. The title and headings
    are accessgov's own words (plus ids it has checked), never free text."""
    parts = [f"# {title}\n"]
    for heading, body in sections:
        parts.append(f"\n## {heading}\n\n{body}")
    return "".join(parts)
