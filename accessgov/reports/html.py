"""HTML documents (any Document through document.html.j2, the review's evidence pack through
review.html.j2) from the templates in accessgov/reports/templates/.

Rendered with jinja2 with autoescaping on for everything, so a name such as `<script>` is
shown as text, never run; and every cell also goes through `visible`, so control characters
and bidirectional overrides cannot reorder what a reader sees. The page is self-contained
(inline CSS, no script, no link to fetch anything) and prints cleanly. jinja2 is imported
only here, when an HTML document is asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from accessgov.reports.text import visible


def render_html(template: str, **context: Any) -> str:
    """The named template rendered with `context` (autoescaped)."""
    return str(_environment().get_template(template).render(**context))


def cell(value: Any) -> str:
    """A value as a table cell shows it: empty for none, yes/no, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {cell(item)}" for key, item in value.items())
    return visible(str(value))


def heading(column: str) -> str:
    """A column name as a table heading: `approved_by` -> `approved by`."""
    return column.replace("_", " ")


@functools.cache
def _environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("accessgov.reports", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the test, not the page
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    environment.filters["cell"] = cell
    environment.filters["heading"] = heading
    return environment
