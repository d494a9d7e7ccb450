"""Every CSV accessgov writes neutralises spreadsheet formulas (OWASP's rule against CSV
injection): a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return starts
with an apostrophe instead, and keeps its text after it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accessgov.governance.review import quarter_of
from accessgov.reports import checklist
from accessgov.reports.document import Document, Rows
from accessgov.reports.evidence import document as evidence_document
from accessgov.reports.formats import _FORMULA_STARTS, csv_document
from accessgov.reports.rendering import render
from tests.support.shell import Shell

STARTS = tuple("=+-@\t\r")
LINK = '=HYPERLINK("http://x","y")'
CALC = "+cmd|' /C calc'!A0"
SUM = "@SUM(1+1)"
MINUS = "-2+3"
# Tabs and carriage returns cannot be typed into the register (input checks refuse them):
# they are written through the renderers directly (see the end of this file).
HOSTILE = (LINK, CALC, SUM, MINUS, "\tX", "\rY")


def cells(text: str) -> list[str]:
    """Every cell of a CSV (its byte-order mark dropped)."""
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    return [cell for row in rows for cell in row]


def assert_neutralised(text: str, expected: tuple[str, ...] = ()) -> None:
    """No cell starts a formula, and each `expected` text is still there after its quote."""
    found = cells(text)
    assert [cell for cell in found if cell.startswith(STARTS)] == []
    for value in expected:
        assert any(cell.startswith("'" + value) for cell in found), (value, found)


@pytest.fixture
def hostile(shared: Shell) -> Shell:
    """shared, where every free-text field a CSV shows starts like a formula."""
    sh = shared

    def run(*args: str, by: str = "vperkins") -> None:
        sh.run([*args, *sh.as_(by).split()])

    run("person", "add", "eve", "--name", LINK, "--email", "e@example.org",
        "--category", "employee", "--title", SUM)
    run("person", "add", "mal", "--name", CALC, "--email", "m@example.org",
        "--category", "volunteer", "--title", MINUS)
    run("account", "add", "x-main", "--platform", "x", "--handle", "@interact_x",
        "--owner", "vperkins", "--purpose", CALC, by="spatel")
    run("grant", "add", "eve", "instagram-main", "--role", "editor", "--reason", SUM)
    run("grant", "add", "mal", "x-main", "--role", "editor", f"--reason={MINUS}")
    # A delegate without MFA: the check's finding starts with their name.
    run("delegate", "add", "eve", "--account", "instagram-main")
    run("delegate", "add", "jdoe", "--account", "x-main")
    run("delegate", "revoke", "D-0002", "--reason", LINK)
    run("review", "start")
    quarter = quarter_of(sh.clock.now.date().isoformat())
    run("review", "decide", quarter, "1", "keep", "--note", LINK, by="spatel")
    run("offboard", "start", "mal", "--reason", LINK)
    run("offboard", "done", "mal", "1", "--note", SUM)
    run("grant", "add", "eve", "x-main", "--role", "editor", "--reason", SUM)
    run("grant", "revoke", "G-0004", "--reason", CALC)  # on the to-do list, eve's name first
    run("incident", "open", "x-main", "--kind", "compromised", "--summary", CALC)
    return sh


def csv_commands() -> Iterator[str]:
    """Every command that can write CSV: it offers `--format csv`."""
    from accessgov.cli import COMMANDS, cli

    context = click.Context(cli)
    for name in COMMANDS:
        yield from _with_csv(name, cli.get_command(context, name))


def _with_csv(path: str, command: click.Command | None) -> Iterator[str]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _with_csv(f"{path} {name}", sub)
    elif command is not None and any(
            "--format" in getattr(param, "opts", ()) and isinstance(param.type, click.Choice)
            and "csv" in param.type.choices for param in command.params):
        yield path


# Each command that writes CSV, the arguments it is run with, and the hostile text its CSV
# must show (after its quote).
COMMANDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "whoami": ("", ()),
    "person list": ("", (LINK, CALC, SUM, MINUS)),
    "person show": ("eve", (LINK, SUM)),
    "account list": ("", ("@interact", CALC)),
    "account show": ("x-main", ("@interact_x", CALC)),
    "delegate list": ("--all", (LINK,)),
    "grant list": ("", (LINK, CALC, SUM, MINUS)),
    "grant show": ("G-0002", (LINK, SUM)),
    "cred list": ("", ()),
    "audit log": ("", ()),
    "audit verify": ("", ()),
    "offboard show": ("mal", ("@interact_x", SUM)),
    "offboard list": ("", (CALC,)),
    "offboard export": ("mal", ("@interact_x", SUM)),
    "authority rules": ("", ()),
    "check": ("", (LINK,)),
    "policy show": ("", ()),
    "report access": ("", (LINK, "@interact")),
    "review show": ("", (LINK,)),
    "review export": ("{quarter}", (LINK,)),
    "review list": ("", ()),
    "backup verify": ("", ()),
    "todo list": ("", (LINK,)),
    "store show": ("", ()),
    "incident show": ("I-0001", ()),
    "incident list": ("", (CALC,)),
    "incident export": ("I-0001", ()),
    "remind": ("", ()),
}


def test_every_command_that_writes_csv_is_walked_here() -> None:
    assert sorted(csv_commands()) == sorted(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_csv_cell_starts_a_formula(hostile: Shell, command: str, tmp_path: Path) -> None:
    arguments, expected = COMMANDS[command]
    arguments = arguments.format(quarter=quarter_of(hostile.clock.now.date().isoformat()))
    target = tmp_path / "out.csv"
    result = hostile.run(f"{command} {arguments} --format csv -o {target}", expect=None)
    assert result.exit_code in (0, 1), result.stderr  # check exits 1: it found something
    assert_neutralised(target.read_text(encoding="utf-8"), expected)


def test_the_report_of_one_person_too(hostile: Shell) -> None:
    text = hostile.run("report access --person eve --format csv").stdout
    assert_neutralised(text, (LINK, "@interact"))


# -- the writer, with what cannot be typed in ---------------------------------------------------

def test_formula_characters_all_sort_before_a() -> None:
    # csv_document passes any text that sorts at or after "A" without a closer look.
    assert set(_FORMULA_STARTS) == set(STARTS)
    assert max(_FORMULA_STARTS) < "A"


ROW = {"id": "G-0001", **{f"text{n}": value for n, value in enumerate(HOSTILE)},
       "when": "2026-01-05T09:00:00Z", "empty": "", "none": None}
COLUMNS = tuple(ROW)


def documents() -> dict[str, Document]:
    """A document of each kind that writes CSV, every text cell hostile."""
    values = (tuple(ROW.values()),)
    case = {"case": "O-0001", "person": "mal", "items": [
        {"item": 1, "status": "done", "kind": "mfa", "account": None, "platform": None,
         "handle": "@x", "action": LINK, "steps": [CALC, "\tX"], "done_by": "ceo",
         "done_at": "2026-01-05T09:00:00Z", "note": "\rY"}]}
    return {
        "records": Document(rows=Rows(columns=COLUMNS, records=[ROW])),
        "values": Document(rows=Rows(columns=COLUMNS, values=values, bom=True)),
        "record": Document(record=ROW),
        "checklist": checklist.document(case, bom=True),
        "evidence pack": evidence_document(_Pack()),
    }


class _Pack:
    columns = COLUMNS

    def rows(self) -> Iterator[tuple[Any, ...]]:
        yield tuple(ROW.values())


# The hostile text each kind's CSV shows: the checklist's items hold it in other fields.
EXPECTED = {"checklist": (LINK, CALC, "@x", "\rY")}


@pytest.mark.parametrize("kind", sorted(documents()))
def test_every_kind_of_document_writes_neutralised_csv(kind: str) -> None:
    assert_neutralised(render(documents()[kind], "csv"), EXPECTED.get(kind, HOSTILE))


def test_numbers_dates_and_empty_cells_are_left_alone() -> None:
    record = {"count": -3, "when": "2026-01-05T09:00:00Z", "empty": "", "none": None,
              "flag": False}
    text = render(Document(rows=Rows(columns=tuple(record), records=[record])), "csv")
    assert text.splitlines()[1] == "-3,2026-01-05T09:00:00Z,,,no"  # -3 is a number


def test_records_go_through_the_same_writer() -> None:
    records = Document(rows=Rows(columns=COLUMNS, records=[ROW]))
    assert render(records, "csv") == csv_document([tuple(ROW.values())], COLUMNS)


def test_a_carriage_return_cannot_start_a_new_row() -> None:
    text = csv_document([("G-1", "x\r=1+1", None, 3), ("G-2", "ok", "", 4)],
                        ("id", "note", "none", "n"))
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["id", "note", "none", "n"], ["G-1", "x\r=1+1", "", "3"], ["G-2", "ok", "", "4"]]


@given(st.lists(st.lists(st.text(), min_size=1, max_size=3), max_size=3))
def test_any_text_reads_back_whole_after_at_most_one_quote(rows: list[list[str]]) -> None:
    columns = ("a", "b", "c")[:max((len(row) for row in rows), default=1)]
    rows = [row + [""] * (len(columns) - len(row)) for row in rows]
    text = csv_document(rows, columns)
    read = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert read == [["'" + cell if cell.startswith(STARTS) else cell for cell in row]
                    for row in rows]
