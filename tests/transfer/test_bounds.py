"""Crafted import files and ids (issue 15, item 7): each is refused with exit 2 and one line
naming what is too big or wrong, by the dry run and the import alike, and leaves the register
as it was; no grant number can overflow the register's integers."""

from __future__ import annotations

import json
import reprlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from accessgov.transfer import limits
from tests.support.behind import ON_POSTGRESQL, behind_the_log
from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error

GRANTS = "id,person,account,role,reason,decided_by,authority,decided_at,status\n"
REVOKED = ("id,person,account,role,reason,decided_by,authority,decided_at,status,revoked_by,"
           "revoked_at,revoke_reason\n")
NINES = "9" * 5000


def grant_row(grant_id: str, status: str = "") -> str:
    return f"{grant_id},jdoe,instagram-main,editor,Youth events,vperkins,ceo,2025-03-01,{status}\n"


def revoked_row(grant_id: str) -> str:
    return (f"{grant_id},jdoe,instagram-main,editor,Old,vperkins,ceo,2025-01-01,revoked,"
            "vperkins,2025-02-01,Left the team\n")


def both_runs(sh: Shell, path: Path, kind: str | None = "grants", *,
              expect: int = 2, extra: str = "") -> tuple[Result, Result]:
    """`import --dry-run` and then `import`, by the trustee, each checked to leave the
    register exactly as it was (a refusal, exit 3, adds only its `refused` event)."""
    kind_option = f"--kind {kind}" if kind else ""
    before = dump(sh.db)
    dry = sh.run(f"import {path} {kind_option} --dry-run --as spatel {extra}", expect=expect)
    assert dump(sh.db) == before
    real = sh.run(f"import {path} {kind_option} {sh.as_('spatel')} {extra}", expect=expect)
    after = dump(sh.db)
    log, old_log = after.pop("audit"), before["audit"]
    assert log[:len(old_log)] == old_log
    assert [event[3] for event in log[len(old_log):]] == (["refused"] if expect == 3 else [])
    assert after == {k: v for k, v in before.items() if k != "audit"}, \
        "a refused import changed the register"
    return dry, real


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# -- files refused whole, before any row is checked ------------------------------------------

def _deep_record(depth: int) -> str:
    return '[{"person": ' + "[" * depth + "]" * depth + "}]"


FILES_REFUSED_WHOLE = [
    ("deep-arrays.json", "[" * 100_000 + "]" * 100_000,
     "deep-arrays.json nests lists and objects more than 32 levels deep"),
    ("deep-objects.json", '{"a": ' * 100_000 + "1" + "}" * 100_000,
     "deep-objects.json nests lists and objects more than 32 levels deep"),
    ("deep-unclosed.json", "[" * 100_000,
     "deep-unclosed.json nests lists and objects more than 32 levels deep"),
    ("deep-row.json", _deep_record(40),
     "deep-row.json nests lists and objects more than 32 levels deep"),
    ("big-integer.json", f'[{{"id": {NINES}}}]',
     "big-integer.json holds a number 5,000 characters long; at most 20"),
    ("big-real.json", f'[{{"id": 1{"0" * 5000}.5}}]',
     "big-real.json holds a number 5,003 characters long; at most 20"),
    ("big-exponent.json", '[{"id": 1e999999999999999999999}]',
     "big-exponent.json holds a number 23 characters long; at most 20"),
    ("nan.json", '[{"id": NaN}]', "nan.json is not valid JSON (NaN is not a JSON number)"),
    ("infinity.json", '[{"id": -Infinity}]',
     "infinity.json is not valid JSON (-Infinity is not a JSON number)"),
    ("fields.json", json.dumps([{f"f{n}": "x" for n in range(150)}]),
     "fields.json: record 1 of grants has 150 fields; at most 100"),
    ("field-name.json", json.dumps([{"x" * 500: "y"}]),
     "field-name.json: record 1 of grants has a field name 500 characters long; at most 100"),
    ("big-text.json", json.dumps([{"person": "jdoe", "reason": "x" * 20_000}]),
     "big-text.json: record 1 of grants: reason holds 20,000 characters; at most 10,000"),
    ("long-list.json", json.dumps([{"person": ["jdoe"] * 20_000}]),
     "long-list.json: record 1 of grants: person lists 20,000 entries; at most 10,000"),
    ("long-entry.json", json.dumps([{"person": ["x" * 20_000]}]),
     "long-entry.json: record 1 of grants: person holds 20,000 characters; at most 10,000"),
    ("wide.csv", ",".join(f"c{n}" for n in range(1000)) + "\n",
     "wide.csv: the header row names 1,000 columns; at most 100"),
    ("title.csv", "x" * 500 + ",person\n",
     "title.csv: the title of column 1 is 500 characters long; at most 100"),
    ("many-cells.csv", GRANTS + "G-0001" + "," * 999 + "\n",
     "many-cells.csv: row 2 has 1,000 cells; at most 100"),
    ("big-cell.csv", GRANTS + "G-0001,jdoe,instagram-main,editor," + "x" * 20_000 + "\n",
     "big-cell.csv: row 2, column 5 holds 20,000 characters; a cell holds at most 10,000"),
    ("huge-cell.csv", GRANTS + "G-0001,jdoe,instagram-main,editor," + "x" * 200_000 + "\n",
     "a cell holds more than 10,000 characters, the most a cell holds"),
    ("version.json", json.dumps({"format": "accessgov-register", "version": "v" * 100_000}),
     "version.json was written by another version of accessgov export (version 'vvvvvvvvvvvv"),
    ("parts.json", json.dumps({"format": "accessgov-register", "version": 1,
                               **{f"part{n:03d}" + "x" * 1000: [] for n in range(50)}}),
     "parts.json has parts accessgov does not know: part000xxxxxxxxxxx"),
]


@pytest.mark.parametrize(("name", "content", "message"), FILES_REFUSED_WHOLE,
                         ids=[name for name, _, _ in FILES_REFUSED_WHOLE])
def test_a_file_beyond_a_limit_is_refused_whole(shared: Shell, tmp_path: Path, name: str,
                                                content: str, message: str) -> None:
    path = write(tmp_path, name, content)
    kind = None if name in ("version.json", "parts.json") else "grants"
    for result in both_runs(shared, path, kind):
        line = one_line_error(result)
        assert message in line, line
        assert len(line) < 300  # names what is too big without quoting all of it
        assert result.stdout == ""  # refused before any row: no report


def test_more_rows_than_an_import_takes(shared: Shell, tmp_path: Path) -> None:
    rows = limits.MAX_ROWS + 1
    csv_file = write(tmp_path, "rows.csv", GRANTS + "x\n" * rows)
    for result in both_runs(shared, csv_file):
        assert one_line_error(result) == ("Error: rows.csv has 1,000,001 rows; an import takes "
                                          "at most 1,000,000: split it into smaller files")
    json_file = write(tmp_path, "rows.json", "[" + "{}," * (rows - 1) + "{}]")
    for result in both_runs(shared, json_file):
        assert "rows.json holds 1,000,001 records; an import takes at most 1,000,000" in \
            one_line_error(result)
    export = write(tmp_path, "export.json", json.dumps({
        "format": "accessgov-register", "version": 1,
        "people": [{}] * (rows // 2), "grants": [{}] * (rows - rows // 2)}))
    for result in both_runs(shared, export, None):
        assert "export.json holds 1,000,001 records" in one_line_error(result)


def test_a_file_bigger_than_an_import_reads(shared: Shell, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is 256 MB; here 1 MB, so that the test writes little. A device without end
    is read no further than the limit (and neither is it counted for the progress bar)."""
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 2**20)
    big = write(tmp_path, "big.csv", GRANTS + grant_row("G-0001") * 20_000)
    for result in both_runs(shared, big):
        assert one_line_error(result) == ("Error: big.csv is too big (more than 1 MB, the most "
                                          "one import reads): split it into smaller files")
    if Path("/dev/zero").exists():
        for result in both_runs(shared, Path("/dev/zero")):
            assert "zero is too big (more than 1 MB" in one_line_error(result)


# -- ids: ASCII digits, at most 9 of them ---------------------------------------------------

@pytest.mark.parametrize(("grant_id", "reason"), [
    ("G-\u00b2\u00b3\u00b9\u00b9", "must be a grant id such as G-0001 (G- and 4 to 9 digits)"),
    ("G-\uff11\uff12\uff13\uff14", "must be a grant id such as G-0001 (G- and 4 to 9 digits)"),
    ("G-\u0661\u0662\u0663\u0664", "must be a grant id such as G-0001 (G- and 4 to 9 digits)"),
    ("G-" + NINES, "is too long (5002 characters; at most 11)"),
    ("G-99999999999999999999999", "is too long (25 characters; at most 11)"),
    ("G-9223372036854775807", "is too long (21 characters; at most 11)"),
    ("G-1000000000", "is too long (12 characters; at most 11)"),
    ("D-0001", "must be a grant id such as G-0001 (G- and 4 to 9 digits)"),
])
def test_a_crafted_grant_id_is_a_problem_of_its_row(shared: Shell, tmp_path: Path,
                                                     grant_id: str, reason: str) -> None:
    if reason.startswith("must be"):  # the problem names the value, to find it in the file
        reason += f" (it is {reprlib.repr(grant_id)})"
    for name, text in [("ids.csv", REVOKED + revoked_row(grant_id)),
                       ("ids.json", json.dumps([{
                           "id": grant_id, "person": "jdoe", "account": "instagram-main",
                           "role": "editor", "reason": "Old", "decided_by": "vperkins",
                           "authority": "ceo", "decided_at": "2025-01-01", "status": "revoked",
                           "revoked_by": "vperkins", "revoked_at": "2025-02-01",
                           "revoke_reason": "Left"}])),
                       ("more.csv", GRANTS + grant_row(grant_id, "expired") + grant_row(""))]:
        path = write(tmp_path, name, text)
        for result in both_runs(shared, path, extra="--format json"):
            report = validate_output("import", result.stdout)
            assert report["problems"] == [  # type: ignore[index]
                {"kind": "grants", "row": 2 if name != "ids.json" else 1, "column": "id",
                 "reason": reason}]
            assert one_line_error(result).startswith("Error: 1 problem in ")


def test_an_id_ending_in_a_line_break_is_not_an_id(shared: Shell, tmp_path: Path) -> None:
    """JSON Schema's `$` is the end of the text; Python's would let "G-0001\\n" through."""
    path = write(tmp_path, "ids.json", json.dumps([
        {"id": "D-0001\n", "delegate": "jdoe", "granted_by": "vperkins",
         "valid_from": "2025-01-01", "all_accounts": True}]))
    for result in both_runs(shared, path, "delegations", extra="--format json"):
        problems = validate_output("import", result.stdout)["problems"]  # type: ignore[index]
        assert problems == [{"kind": "delegations", "row": 1, "column": "id", "reason":
                             "must be a delegation id such as D-0001 (D- and 4 to 9 digits) "
                             "(it is 'D-0001\\n')"}]


def test_the_highest_grant_number_leaves_numbering_working(shared: Shell,
                                                          tmp_path: Path) -> None:
    """G-999999999 is the last number an import may give; after it, grant add and an import
    of rows without ids take the lowest numbers not used."""
    path = write(tmp_path, "top.csv", REVOKED + revoked_row("G-999999999"))
    shared.run(f"import {path} --kind grants {shared.as_('spatel')}")
    shared.run(f"grant add spatel instagram-main --role editor --reason Board "
               f"{shared.as_('vperkins')}")
    shared.run(f"grant request jdoe instagram-main --role analyst --reason Reports "
               f"{shared.as_('vperkins')}")
    more = write(tmp_path, "more.csv", GRANTS + grant_row("", "expired"))
    planned = shared.run(f"import {more} --kind grants --dry-run --as spatel --format json")
    assert json.loads(planned.stdout)["changes"][0]["id"] == "G-0004"
    ids = [grant["id"] for grant in json.loads(shared.run("grant list --format json").stdout)]
    assert sorted(ids) == ["G-0001", "G-0002", "G-0003", "G-999999999"]
    assert shared.run("audit verify").exit_code == 0


@pytest.mark.parametrize("num", [2**63 - 1, 10**9, -5, 1e308, "abc"])
def test_a_grant_number_written_behind_the_log_breaks_no_command(shared: Shell, num: Any
                                                                 ) -> None:
    """Numbers outside 1..999,999,999 are never counted from, so nothing overflows; the row
    itself fails its seal, which audit verify reports."""
    if ON_POSTGRESQL and not (isinstance(num, int) and abs(num) < 2**63):
        import psycopg

        with pytest.raises(psycopg.errors.DataError):  # the column's type refuses it first
            behind_the_log(shared.db, "UPDATE grants SET num = ? WHERE id = 'G-0001'",
                           params=(num,))
        return
    behind_the_log(shared.db, "INSERT INTO grants (id, num, person, account, role, reason, "
                              "requested_by, requested_at, status) VALUES ('G-X', ?, 'jdoe', "
                              "'instagram-main', 'editor', 'x', 'jdoe', '2025-01-01T00:00:00Z', "
                              "'revoked')", params=(num,))
    added = shared.run(f"grant add spatel instagram-main --role editor --reason Board "
                       f"{shared.as_('vperkins')}")
    assert "G-0002" in added.stdout
    shared.run(f"grant request jdoe instagram-main --role analyst --reason Reports "
               f"{shared.as_('vperkins')}")
    verify = shared.run("audit verify", expect=1)
    assert "G-X" in verify.stdout


# -- the dry run runs the import's checks ------------------------------------------------------

BAD_FILES = [
    ("superscript.csv", GRANTS + grant_row("G-\u00b2\u00b3\u00b9\u00b9")),
    ("overflow.csv", REVOKED + revoked_row("G-99999999999999999999999")),
    ("int64.csv", REVOKED + revoked_row("G-9223372036854775807")),
    ("mixed.csv", GRANTS + grant_row("G-0007") + grant_row("G-0007") + grant_row("")
     + "ghost,nowhere,owner,x,,,,,\n" + grant_row("G-00007", "expired")),
    ("header.csv", "id,person,id,,extra\nG-0001,jdoe,,,\n"),
    ("shape.json", json.dumps(["not a record", {"id": 7}, {"id": "G-0001\n"}, {}])),
    ("self.csv", GRANTS + "G-0009,spatel,instagram-main,editor,x,vperkins,ceo,2025-01-01,\n"),
]


@pytest.mark.parametrize(("name", "content"), BAD_FILES, ids=[n for n, _ in BAD_FILES])
def test_the_dry_run_reports_what_the_import_reports(shared: Shell, tmp_path: Path,
                                                     name: str, content: str) -> None:
    path = write(tmp_path, name, content)
    expect = 3 if name == "self.csv" else 2
    dry, real = both_runs(shared, path, expect=expect, extra="--format json")
    planned, done = json.loads(dry.stdout), json.loads(real.stdout)
    assert planned["problems"] and planned["problems"] == done["problems"]
    assert (planned["problems_total"], planned["rows"]) == (done["problems_total"], done["rows"])
    assert dry.stderr == real.stderr


def test_the_dry_run_checks_the_board_minute_as_the_import_does(shared: Shell,
                                                                tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", "id,name,email,category\nkim,Kim Lee,k@example.org,"
                                         "volunteer\n")
    dry, real = both_runs(shared, path, "people", extra="--board-minute 'BM\x1b[2J 1'")
    assert one_line_error(dry) == one_line_error(real) == \
        "Error: board minute cannot hold a control character (\\x1b)"


def test_a_good_file_plans_what_it_imports(shared: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "good.csv", GRANTS + grant_row("G-0042", "expired") + grant_row(""))
    planned = json.loads(shared.run(f"import {path} --kind grants --dry-run --as spatel "
                                    "--format json").stdout)
    done = json.loads(shared.run(f"import {path} --kind grants {shared.as_('spatel')} "
                                 "--format json").stdout)
    assert [change["id"] for change in planned["changes"]] == ["G-0042", "G-0043"]
    assert planned["added"] == done["added"] == {"grants": 2}


def test_the_import_event_names_the_bytes_it_read(shared: Shell, tmp_path: Path) -> None:
    import hashlib

    content = (GRANTS + grant_row("", "expired")).encode()
    path = write(tmp_path, "good.csv", b"\xef\xbb\xbf" + content)
    shared.run(f"import {path} --kind grants {shared.as_('spatel')}")
    events = json.loads(shared.run("audit log --action register.import --format json").stdout)
    assert events[-1]["details"]["sha256"] == hashlib.sha256(b"\xef\xbb\xbf" + content
                                                             ).hexdigest()
