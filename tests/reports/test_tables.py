"""The human table and Markdown renderers: exact look, wide text, fitting, controls."""

from __future__ import annotations

import importlib
import re
import unicodedata

import pytest
import wcwidth

from accessgov.reports.tables import as_markdown, as_record, as_table


def widths(text: str) -> list[int]:
    """The display width of every line of `text`."""
    return [wcwidth.wcswidth(line) for line in text.splitlines()]


# -- the look ----------------------------------------------------------------------------------

def test_a_small_table_is_drawn_exactly() -> None:
    rows = [
        {"id": "G-0001", "person": "jdoe", "version": "1.10", "mfa_verified": True,
         "accounts": ["tiktok-main"], "expires": None},
        {"id": "G-0002", "person": "spatel", "version": 2, "mfa_verified": False,
         "accounts": [], "expires": "2027-01-31"},
    ]
    columns = ("id", "person", "version", "mfa_verified", "accounts", "expires")
    assert as_table(rows, columns) == (
        "id      person  version  mfa verified  accounts     expires\n"
        "------  ------  -------  ------------  -----------  ----------\n"
        "G-0001  jdoe    1.10     yes           tiktok-main\n"
        "G-0002  spatel  2        no                         2027-01-31\n"
    )


def test_cells_are_shown_as_stored_spaces_included() -> None:
    rows = [{"id": "p1", "title": "  Lead "}, {"id": "p2", "title": "Volunteer"}]
    assert as_table(rows, ("id", "title")).splitlines()[2:] == ["p1    Lead", "p2  Volunteer"]


def test_an_empty_list_says_none() -> None:
    assert as_table([], ("id", "name")) == "(none)\n"


def test_tabulate_measures_with_wcwidth() -> None:
    import tabulate

    assert tabulate.WIDE_CHARS_MODE


def column_starts(rule: str) -> list[int]:
    """Where each column begins, read from the ruled line under the header."""
    return [match.start() for match in re.finditer("-+", rule)]


def display_offsets(line: str, texts: list[str]) -> list[int]:
    """The display column at which each of `texts` begins in `line`, found left to right."""
    offsets, position = [], 0
    for text in texts:
        position = line.index(text, position)
        offsets.append(wcwidth.wcswidth(line[:position]))
        position += len(text)
    return offsets


def from_display_column(line: str, column: int) -> str:
    """What `line` shows from display column `column` on."""
    for index in range(len(line) + 1):
        if wcwidth.wcswidth(line[:index]) >= column:
            return line[index:]
    return ""


def test_wide_and_combining_characters_line_up() -> None:
    names = ["李雷", "Zoe\u0308", "Jo Doe", "李雷 and Zoe\u0308 Martin"]
    rows = [{"id": f"p{n}", "name": name, "role": "editor"} for n, name in enumerate(names)]
    header, rule, *lines = as_table(rows, ("id", "name", "role")).splitlines()
    starts = column_starts(rule)
    assert display_offsets(header, ["id", "name", "role"]) == starts
    for line, row in zip(lines, rows, strict=True):
        assert display_offsets(line, [row["id"], row["name"], "editor"]) == starts, line
    # "李雷" is 4 columns and "Zoë" 3, though they are 2 and 4 code points long.
    assert wcwidth.wcswidth("李雷") == 4 and wcwidth.wcswidth("Zoe\u0308") == 3


# -- fitting to a width ------------------------------------------------------------------------

GRANT_COLUMNS = ("id", "person", "person_name", "account", "role", "status", "decided_by",
                 "authority", "decided_at", "expires", "reason")
GRANT_DROPPABLE = ("decided_at", "authority", "decided_by")
REASONS = [
    "Posts clips of the weekly sessions and answers comments from young people on weekdays",
    "发布活动照片和视频\uff0c并回复家长的留言",
    "Stories",
]


def grant_rows() -> list[dict[str, str]]:
    names = ["Jo Doe", "李雷", "Zoe\u0308 Martin-Okonkwo"]
    return [{"id": f"G-000{n}", "person": f"p{n}", "person_name": name,
             "account": "instagram-main", "role": "editor", "status": "active",
             "decided_by": "vperkins", "authority": "ceo", "decided_at": "2026-11-25T14:07:58Z",
             "expires": "2027-01-31", "reason": reason}
            for n, (name, reason) in enumerate(zip(names, REASONS, strict=True), 1)]


def test_80_columns_drop_then_wrap_and_keep_the_id() -> None:
    rows = grant_rows()
    unfitted = as_table(rows, GRANT_COLUMNS, droppable=GRANT_DROPPABLE)
    assert max(widths(unfitted)) > 150
    table = as_table(rows, GRANT_COLUMNS, droppable=GRANT_DROPPABLE, width=80)
    assert max(widths(table)) <= 80
    lines = table.splitlines()
    rule = next(n for n, line in enumerate(lines) if set(line) == {"-", " "})
    header = " ".join(lines[:rule])  # a header may wrap too: "person" over "name"
    assert header.startswith("id  ")
    for dropped in ("decided", "authority"):
        assert dropped not in header
    for kept in ("person", "name", "account", "status", "expires", "reason"):
        assert kept in header.split()
    # The id is whole, once per row, at the start of the row's first line.
    starts = [line.split(" ")[0] for line in lines[rule + 1:]]
    assert [start for start in starts if start] == ["G-0001", "G-0002", "G-0003"]
    # Wrapped, not cut: the reason column, read down, holds every reason whole.
    reason_at = column_starts(lines[rule])[-1]
    reasons = "".join(from_display_column(line, reason_at) for line in lines[rule + 1:])
    assert reasons.replace(" ", "") == "".join(REASONS).replace(" ", "")


def test_droppable_columns_go_first_named_first_and_only_when_needed() -> None:
    rows = [{"id": "x1", "a": "a" * 10, "b": "b" * 10, "c": "c" * 10}]

    def header(width: int | None) -> list[str]:
        table = as_table(rows, ("id", "a", "b", "c"), droppable=("c", "a"), width=width)
        return table.splitlines()[0].split()

    assert header(None) == header(38) == ["id", "a", "b", "c"]
    assert header(37) == ["id", "a", "b"]
    assert header(20) == ["id", "b"]


def test_the_id_column_is_never_wrapped_even_when_nothing_fits() -> None:
    rows = [{"id": "G-0001-with-a-long-id", "reason": "a reason of several words"}]
    table = as_table(rows, ("id", "reason"), width=10)
    assert table.splitlines()[2].startswith("G-0001-with-a-long-id  ")


def test_without_a_width_every_column_stays_but_very_long_cells_wrap() -> None:
    rows = grant_rows()
    table = as_table(rows, GRANT_COLUMNS, droppable=GRANT_DROPPABLE)
    assert table.splitlines()[0].split("  ")[0] == "id"
    for name in GRANT_COLUMNS:
        assert name.replace("_", " ") in table.splitlines()[0]
    assert REASONS[0] not in table  # 85 columns: wrapped at 60
    assert max(widths(table)) < 220


def test_a_droppable_column_must_be_a_shown_column_other_than_the_id() -> None:
    with pytest.raises(ValueError, match="decided_on"):
        as_table([], ("id", "decided_at"), droppable=("decided_on",))
    with pytest.raises(ValueError, match="'id'"):
        as_table([], ("id", "decided_at"), droppable=("id",))


@pytest.mark.parametrize(("module", "table", "droppable"), [
    ("grant", "TABLE_COLUMNS", "DROPPABLE_COLUMNS"),
    ("person", "TABLE_COLUMNS", "DROPPABLE_COLUMNS"),
    ("account", "TABLE_COLUMNS", "DROPPABLE_COLUMNS"),
    ("delegate", "TABLE_COLUMNS", "DROPPABLE_COLUMNS"),
    ("cred", "TABLE_COLUMNS", "DROPPABLE_COLUMNS"),
    ("audit", "LOG_COLUMNS", "LOG_DROPPABLE_COLUMNS"),
])
def test_every_command_table_names_real_droppable_columns(module: str, table: str,
                                                           droppable: str) -> None:
    commands = importlib.import_module(f"accessgov.cli.{module}")
    columns, dropped = getattr(commands, table), getattr(commands, droppable)
    assert set(dropped) <= set(columns[1:])
    as_table([], columns, droppable=dropped)  # the renderer agrees


# -- controls ----------------------------------------------------------------------------------

HOSTILE = ["line1\nFAKE: approved by ceo\r", "\x1b]0;pwned\x07", "\x1b[31mred",
           "next\x85line\u2028and\u202eesrever\ttab"]


def raw_controls(text: str) -> list[str]:
    """Characters that act on a terminal instead of showing (line breaks between rows aside)."""
    return [char for char in text
            if char != "\n" and (unicodedata.category(char) in ("Cc", "Zl", "Zp")
                                 or unicodedata.bidirectional(char) in ("RLO", "LRO"))]


def test_controls_never_reach_the_terminal_raw() -> None:
    rows = [{"id": f"G-000{n}", "reason": text} for n, text in enumerate(HOSTILE, 1)]
    record = {"id": "G-0001", "reason": HOSTILE[0], "title": HOSTILE[1],
              "details": {"note\x1b[2J": HOSTILE[2]}, "grants": rows}
    outputs = [as_table(rows, ("id", "reason")),
               as_table(rows, ("id", "reason"), width=30),
               as_record(record), as_markdown(rows, ("id", "reason"))]
    for output in outputs:
        assert raw_controls(output) == [], output
    table = outputs[0]
    assert "line1 FAKE: approved by ceo\\x0d" in table  # one line, the CR shown
    assert "\\x1b]0;pwned\\x07" in table
    assert "\\x1b[31mred" in table
    assert "next\\x85line\\u2028and\\u202eesrever tab" in table
    assert len(table.splitlines()) == 2 + len(HOSTILE)
    assert "note\\x1b[2J: \\x1b[31mred" in outputs[2]


# -- Markdown ----------------------------------------------------------------------------------

def test_a_markdown_table_is_github_flavoured() -> None:
    rows = [{"id": "G-0001", "person_name": "李雷", "role": "editor"},
            {"id": "G-0002", "person_name": "Jo Doe", "role": None}]
    assert as_markdown(rows, ("id", "person_name", "role")) == (
        "| id     | person name | role   |\n"
        "|--------|-------------|--------|\n"
        "| G-0001 | 李雷        | editor |\n"
        "| G-0002 | Jo Doe      |        |\n"
    )


def test_markdown_cells_cannot_break_the_table_or_become_links() -> None:
    rows = [{"id": "a|b", "reason": "[click](https://evil.example) <img src=x> *now*\nnext"}]
    assert as_markdown(rows, ("id", "reason")).splitlines()[2] == (
        "| a\\|b | \\[click\\](https://evil.example) \\<img src=x\\> \\*now\\* next |"
    )
