"""The one table of renderers: every format draws any Document, a kind's own renderers take
over only the formats they name, and no code outside accessgov/reports/ picks a format."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import click
import pytest

from accessgov.reports.document import Document, Renderer, Rows, Section, View
from accessgov.reports.rendering import RENDERERS, render

PACKAGE = Path(__file__).resolve().parents[2] / "accessgov"
RECORDS = [
    {"id": "G-0001", "person_name": "Zoë <b>Lee</b>", "reason": "Posts *events*",
     "approved_at": "2026-01-05T09:00:00Z", "tags": ["a", "b"]},
    {"id": "G-0002", "person_name": "李雷", "reason": None,
     "approved_at": "2026-01-06T10:30:00Z", "tags": []},
]
COLUMNS = ("id", "person_name", "reason", "approved_at", "tags")


def grants(**changes: Any) -> Document:
    rows = Rows(columns=COLUMNS, records=RECORDS, heading="Grants",
                table_columns=("id", "person_name", "approved_at"), empty="No grants.")
    document = Document(title="Grants of G-0001", summary={"grants": 2, "checked_on": "today"},
                        rows=rows, before=("2 grants", ""), after=("", "end of list"))
    return dataclasses.replace(document, **changes)


def parsed_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_registry_has_every_format_the_commands_offer() -> None:
    from accessgov.cli import COMMANDS, cli

    offered: set[str] = set()
    context = click.Context(cli)
    for name in COMMANDS:
        for command in _leaves(cli.get_command(context, name)):
            for param in command.params:
                if "--format" in getattr(param, "opts", ()) and \
                        isinstance(param.type, click.Choice):
                    offered.update(str(choice) for choice in param.type.choices)
    # "bundle" (review export) is no drawing of its own: a folder of the pack drawn in each
    # of the formats above, with their manifest.
    assert offered - {"bundle"} == set(RENDERERS) == {"table", "json", "csv", "md", "html"}


def _leaves(command: click.Command | None) -> list[click.Command]:
    if isinstance(command, click.Group):
        return [leaf for sub in command.commands.values() for leaf in _leaves(sub)]
    return [command] if command is not None else []


def test_no_module_outside_reports_picks_a_format() -> None:
    branch = re.compile(r"\b(fmt|format) ==")
    found = [f"{path.relative_to(PACKAGE)}:{number}"
             for path in PACKAGE.rglob("*.py") if path.parent.name != "reports"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if branch.search(line)]
    assert found == []


def test_a_table_is_the_rows_between_their_lines() -> None:
    text = render(grants(), "table")
    lines = text.splitlines()
    assert lines[:2] == ["2 grants", ""]
    assert lines[2].split() == ["id", "person", "name", "approved", "at"]
    assert lines[4].split()[:3] == ["G-0001", "Zoë", "<b>Lee</b>"]
    assert "Posts" not in text  # only the table's columns
    assert lines[-2:] == ["", "end of list"]
    assert render(grants(rows=Rows(columns=COLUMNS, records=[], empty="No grants.")),
                  "table") == "2 grants\n\nNo grants.\n\nend of list\n"


def test_a_table_may_be_a_sentence_instead() -> None:
    assert render(grants(text="All is well.\n"), "table") == "All is well.\n"


def test_json_is_the_rows_or_the_record_or_the_payload() -> None:
    assert json.loads(render(grants(), "json")) == RECORDS
    assert json.loads(render(grants(payload={"grants": 2}), "json")) == {"grants": 2}
    assert json.loads(render(Document(record=RECORDS[0]), "json")) == RECORDS[0]


def test_csv_is_the_rows_with_every_column() -> None:
    assert parsed_csv(render(grants(), "csv")) == [
        list(COLUMNS),
        ["G-0001", "Zoë <b>Lee</b>", "Posts *events*", "2026-01-05T09:00:00Z", "a, b"],
        ["G-0002", "李雷", "", "2026-01-06T10:30:00Z", ""]]


def test_rows_given_as_values_read_like_records() -> None:
    values = (tuple(record[column] for column in COLUMNS) for record in RECORDS)
    by_values = dataclasses.replace(grants(), rows=Rows(columns=COLUMNS, values=values,
                                                        bom=True))
    assert render(by_values, "csv") == "\ufeff" + render(grants(), "csv")
    values = (tuple(record[column] for column in COLUMNS) for record in RECORDS)
    assert json.loads(render(Document(rows=Rows(columns=COLUMNS, values=values)), "json")) \
        == RECORDS


def test_markdown_has_the_title_and_a_section_for_each_part() -> None:
    text = render(grants(), "md")
    assert text.startswith("# Grants of G-0001\n\n## Summary\n\n| field")
    assert "| checked on | today |" in text.replace("  ", " ").replace("  ", " ")
    assert "\n## Grants\n\n| id " in text
    assert "Zoë \\<b\\>Lee\\</b\\>" in text and "Posts \\*events\\*" in text


def test_html_is_one_escaped_page_with_every_part() -> None:
    text = render(grants(organisation="InterAct", generated_at="2026-01-07T08:00:00Z"), "html")
    assert text.startswith("<!DOCTYPE html>")
    assert "<h1>Grants of G-0001</h1>" in text
    assert "<h2>Summary</h2>" in text and "<h2>Grants</h2>" in text
    assert "Zoë &lt;b&gt;Lee&lt;/b&gt;" in text and "<b>Lee" not in text
    assert "from the register of InterAct" in text


def test_a_record_in_every_format() -> None:
    record = {"id": "G-0001", "reason": "Posts", "approvals": [{"by": "ceo", "at": "today"}]}
    document = Document(title="Grant G-0001", record=record)
    assert render(document, "table").splitlines()[:2] == ["id      G-0001", "reason  Posts"]
    assert json.loads(render(document, "json")) == record
    assert parsed_csv(render(document, "csv")) == [["id", "reason"], ["G-0001", "Posts"]]
    markdown = render(document, "md")
    assert "| reason | Posts  |" in markdown and "### approvals" in markdown
    assert "<h3>approvals</h3>" in render(document, "html")


def test_sections_in_every_format_but_csv() -> None:
    document = Document(title="Pack", sections=[
        Section(heading="Sign-off", text="Not closed yet."),
        Section(heading="Changes", fields={"compared with": "2026-Q1"}, sections=[
            Section(heading="Added", rows=Rows(columns=("id",), records=[{"id": "G-1"}]))])])
    assert render(document, "md") == (
        "# Pack\n\n## Sign-off\n\nNot closed yet.\n\n## Changes\n\n"
        "| field         | value   |\n|---------------|---------|\n"
        "| compared with | 2026-Q1 |\n\n### Added\n\n| id  |\n|-----|\n| G-1 |\n")
    assert json.loads(render(document, "json"))["sections"][1]["sections"][0]["rows"] == [
        {"id": "G-1"}]
    assert "<h3>Added</h3>" in render(document, "html")
    assert render(document, "table") == ""
    with pytest.raises(ValueError, match="no rows to write as CSV"):
        render(document, "csv")


def test_a_kind_draws_only_the_formats_it_names() -> None:
    @dataclasses.dataclass(kw_only=True, eq=False)
    class Shouted(Document):
        renderers: ClassVar[Mapping[str, Renderer]] = {
            "md": lambda document, _view: document.title.upper()}

    document = Shouted(title="quiet", rows=Rows(columns=("id",), records=[{"id": "x"}]))
    assert render(document, "md") == "QUIET"
    assert json.loads(render(document, "json")) == [{"id": "x"}]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="choose one of: table, json, csv, md, html"):
        render(grants(), "xlsx")


def test_only_a_table_asks_for_the_width() -> None:
    asked: list[str] = []

    def width() -> int:
        asked.append("width")
        return 30

    for fmt in ("json", "csv", "md", "html"):
        render(grants(), fmt, View(width=width))
    assert asked == []
    narrow = render(grants(), "table", View(width=width))
    assert asked == ["width"]
    assert max(len(line) for line in narrow.splitlines()) <= 30


def test_local_time_is_for_tables_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        local = View(local_time=True)
        assert "2026-01-05 18:00:00 JST" in render(grants(), "table", local)
        for fmt in ("json", "csv", "md", "html"):
            text = render(grants(), fmt, local)
            assert "2026-01-05T09:00:00Z" in text and "JST" not in text
    finally:
        monkeypatch.undo()
        time.tzset()


PROBE = """
import sys
from accessgov.reports.document import Document, Rows
from accessgov.reports.rendering import render
render(Document(title="t", rows=Rows(columns=("id",), records=[{"id": "x"}])), sys.argv[1])
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize(("fmt", "loaded"), [
    ("json", set()), ("csv", set()), ("table", {"tabulate", "wcwidth"}),
    ("md", {"tabulate", "wcwidth"}), ("html", {"jinja2"})])
def test_a_format_imports_only_what_it_draws_with(fmt: str, loaded: set[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, fmt], capture_output=True, text=True,
                          check=True, timeout=60)
    modules = set(done.stdout.split())
    assert {"tabulate", "wcwidth", "jinja2"} & modules == loaded
