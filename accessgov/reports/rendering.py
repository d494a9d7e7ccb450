"""The one table of renderers: any Document drawn as a table, JSON, CSV, Markdown or HTML.

`render` is the only place a format is turned into a drawing: it takes the document kind's
own renderer for the format if it has one (`Document.renderers`), else the common one from
`RENDERERS`. The heavy libraries are imported only by the drawings that need them (tabulate
and wcwidth for tables and Markdown, jinja2 for HTML), so JSON and CSV start fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from accessgov.reports.document import Document, Renderer, Rows, Section, View
from accessgov.reports.formats import as_json, csv_document
from accessgov.reports.tables import as_record, as_table
from accessgov.reports.text import visible


def render(document: Document, fmt: str, view: View | None = None) -> str:
    """`document` drawn in `fmt` (a key of RENDERERS) for `view` (default: no width limit,
    UTC times)."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(RENDERERS)}")
    renderer = document.renderers.get(fmt) or RENDERERS[fmt]
    return renderer(document, view or View())


def draw_table(document: Document, view: View) -> str:
    """For a person at a terminal: the record as `field: value` lines and the rows as a table
    fitted to the view's width, between the document's `before` and `after` lines; or the
    document's `text` alone. Times are local if the view asks for it."""
    if document.text is not None:
        return document.text
    parts = [_lines(document.before)]
    if document.record is not None or document.rows is not None:
        width = view.width()
        if document.record is not None:
            parts.append(as_record(_local(document.record, view), width))
        if document.rows is not None:
            parts.append(_table(document.rows, view, width))
    parts.append(_lines(document.after))
    return "".join(parts)


def _table(rows: Rows, view: View, width: int | None) -> str:
    records: Iterable[Mapping[str, Any]] = rows.as_records()
    if rows.table_cells:
        cells = rows.table_cells
        records = ({**record, **{column: shown(record.get(column))
                                 for column, shown in cells.items()}} for record in records)
    return as_table(_local(list(records), view), rows.table_columns or rows.columns,
                    empty=rows.empty, droppable=rows.droppable, width=width)


def _local(data: Any, view: View) -> Any:
    """Tables are read by people: times in local time if they asked for it."""
    if not view.local_time:
        return data
    from accessgov.common.timeutil import in_local_time

    return in_local_time(data)


def _lines(lines: Sequence[str]) -> str:
    return "".join(f"{visible(line)}\n" for line in lines)


def draw_json(document: Document, _view: View) -> str:
    """The document's `payload` if it has one, else its record, its rows (a list of records)
    or its sections, as pretty JSON (the forms schemas/ describe)."""
    if document.payload is not None:
        return as_json(document.payload)
    if document.record is not None:
        return as_json(document.record)
    if document.rows is not None:
        return as_json(list(document.rows.as_records()))
    return as_json({"title": document.title,
                    "sections": [_section_data(part) for part in document.parts()]})


def _section_data(section: Section) -> dict[str, Any]:
    data: dict[str, Any] = {"heading": section.heading}
    if section.fields is not None:
        data["fields"] = dict(section.fields)
    if section.rows is not None:
        data["rows"] = list(section.rows.as_records())
    if section.text:
        data["text"] = section.text
    if section.sections:
        data["sections"] = [_section_data(subsection) for subsection in section.sections]
    return data


def draw_csv(document: Document, _view: View) -> str:
    """The rows, one line each, or the record's plain fields on one line (nested lists and
    records are left out), for a spreadsheet; formula-like cells are neutralised (see
    `csv_document`)."""
    rows = document.rows
    if rows is not None:
        return csv_document(rows.as_values(), rows.columns, bom=rows.bom)
    if document.record is not None:
        fields = {key: value for key, value in document.record.items()
                  if not isinstance(value, list | dict)}
        return csv_document([tuple(fields.values())], list(fields))
    raise ValueError(f"{document.title or 'this document'} has no rows to write as CSV")


def draw_markdown(document: Document, _view: View) -> str:
    """A Markdown document: the title, then each part as a `##` section."""
    from accessgov.reports import markdown as drawing

    return drawing.document(document.title, document.parts())


def draw_html(document: Document, _view: View) -> str:
    """One self-contained HTML page (see accessgov.reports.html): the title, the description
    and each part; a part's heading is shown when the page has several."""
    from accessgov.reports.html import render_html

    parts = document.parts()
    return render_html("document.html.j2", title=document.html_title or document.title,
                       description=document.description, generated_at=document.generated_at,
                       organisation=document.organisation, headed=len(parts) > 1,
                       parts=[part for section in parts for part in _flat(section, 2)])


def _flat(section: Section, level: int) -> Iterable[dict[str, Any]]:
    """A section and its subsections as a flat list the template walks, each with its level."""
    rows = section.rows
    yield {"level": level, "heading": section.heading, "fields": section.fields,
           "text": section.text, "rows": None if rows is None else list(rows.as_records()),
           "columns": () if rows is None else rows.columns,
           "empty": "" if rows is None else rows.empty}
    for subsection in section.sections:
        yield from _flat(subsection, level + 1)


RENDERERS: Mapping[str, Renderer] = {
    "table": draw_table,
    "json": draw_json,
    "csv": draw_csv,
    "md": draw_markdown,
    "html": draw_html,
}
