"""What a command shows, whatever the format it is drawn in.

A command builds a `Document` and hands it to the CLI's `emit_document`, which draws it with
`accessgov.reports.rendering.render`: one table of renderers, keyed by format, draws every
document. A kind of document that is drawn its own way in some format (the review's evidence
pack, the offboarding checklist) says so in its `renderers`; every other format still gets
the common drawing.

Documents hold their rows as given, often a generator read once: a document is drawn once.
They are plain keyword-only dataclasses, neither frozen nor comparable: every command that
prints imports this module, and the methods those options generate cost start-up time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar


@dataclasses.dataclass(kw_only=True, eq=False)
class View:
    """How the reader sees a drawing: the width to fit tables to (asked only when a table is
    drawn: None is no limit), and whether tables show times in local time (--local-time)."""

    width: Callable[[], int | None] = lambda: None
    local_time: bool = False


# A renderer draws a document for a view. A kind's own renderers take that kind.
Renderer = Callable[[Any, View], str]


@dataclasses.dataclass(kw_only=True, eq=False)
class Rows:
    """A list of records in columns: JSON lists them, CSV writes a line for each, a table,
    Markdown or HTML draws them.

    Give `records` (mappings; JSON lists them whole), or `values`: tuples in `columns` order,
    for a report that may hold 100,000 rows (CSV then builds no record per row).
    """

    columns: Sequence[str]
    records: Iterable[Mapping[str, Any]] | None = None
    values: Iterable[Sequence[Any]] | None = None
    heading: str = ""  # the section's heading in Markdown and HTML
    table_columns: Sequence[str] | None = None  # the table's, when fewer than `columns`
    droppable: Sequence[str] = ()  # table columns hidden on a narrow terminal, first first
    # How the table shows a column's values, by column (JSON and CSV show them as stored).
    table_cells: Mapping[str, Callable[[Any], Any]] = dataclasses.field(default_factory=dict)
    empty: str = "(none)"  # what the table (and HTML) says when there are no rows
    markdown_columns: Sequence[str] | None = None  # Markdown's, when fewer than `columns`
    markdown_empty: str = "None."
    bom: bool = False  # CSV starts with a byte-order mark, for spreadsheets (Excel)

    def as_records(self) -> Iterator[Mapping[str, Any]]:
        """The rows as mappings (from `values`, in `columns` order)."""
        if self.records is not None:
            return iter(self.records)
        return (dict(zip(self.columns, values, strict=True)) for values in self.values or ())

    def as_values(self) -> Iterable[Sequence[Any]]:
        """The rows as value sequences in `columns` order (missing fields are None)."""
        if self.values is not None:
            return self.values
        columns = self.columns
        return (tuple(record.get(column) for column in columns)
                for record in self.records or ())


@dataclasses.dataclass(kw_only=True, eq=False)
class Section:
    """A titled part of a document (a Markdown `##` section, an HTML `<h2>`): fields, rows
    and a paragraph in accessgov's own words, each optional, then its subsections."""

    heading: str
    fields: Mapping[str, Any] | None = None
    rows: Rows | None = None
    text: str = ""
    sections: Sequence[Section] = ()


@dataclasses.dataclass(kw_only=True, eq=False)
class Document:
    """What a command shows: a title, summary fields, and rows or one record or sections.

    JSON is `payload` when given, else the record, the rows or the sections; CSV is the rows
    (or the record's plain fields); a table is the record and the rows between the `before`
    and `after` lines, or `text` alone; Markdown and HTML show every part under the title.
    Titles and headings are accessgov's own words and checked ids: Markdown prints them as
    they are (`html_title` may hold names too: HTML escapes it).
    """

    title: str = ""
    html_title: str | None = None
    description: str = ""  # HTML's opening paragraph
    organisation: str = ""  # HTML's footer
    generated_at: str = ""  # HTML's opening paragraph and footer
    summary: Mapping[str, Any] | None = None
    summary_heading: str = "Summary"
    record: Mapping[str, Any] | None = None
    rows: Rows | None = None
    sections: Sequence[Section] = ()
    payload: Any = None
    text: str | None = None  # the table form, when a sentence says it better
    before: Sequence[str] = ()  # table form: lines above the table ("" is a blank line)
    after: Sequence[str] = ()  # table form: lines below it

    # A kind's own drawing of some formats, by format (see the module docstring).
    renderers: ClassVar[Mapping[str, Renderer]] = MappingProxyType({})

    def parts(self) -> list[Section]:
        """The document as sections, in reading order: the summary, the record, the rows,
        then the sections (for Markdown and HTML)."""
        parts = []
        if self.summary is not None:
            parts.append(Section(heading=self.summary_heading, fields=self.summary))
        if self.record is not None:
            parts.append(record_section(self.record))
        if self.rows is not None:
            parts.append(Section(heading=self.rows.heading, rows=self.rows))
        return parts + list(self.sections)


def record_section(record: Mapping[str, Any], heading: str = "") -> Section:
    """A record as a section: its plain fields, then a subsection for each nested record
    or list of records."""
    fields = {key: value for key, value in record.items() if not _nested(value)}
    subsections = []
    for key, value in record.items():
        if isinstance(value, Mapping):
            subsections.append(record_section(value, key.replace("_", " ")))
        elif _nested(value):
            columns = list(value[0]) if value else []
            subsections.append(Section(heading=key.replace("_", " "),
                                       rows=Rows(columns=columns, records=value)))
    return Section(heading=heading, fields=fields, sections=subsections)


def _nested(value: Any) -> bool:
    return isinstance(value, Mapping) or (isinstance(value, list) and (
        not value or isinstance(value[0], Mapping)))
