"""import: the charity's spreadsheet in, all rows or none, every bad row named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.behind import behind_the_log
from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error

PEOPLE_CSV = (
    "Id,Name,Email,Category,Title,Manager,Start date\n"
    "amiller,Al Miller,a@example.org,volunteer,,bkhan,2025-01-06\n"
    "bkhan,Bo Khan,b@example.org,employee,Comms Officer,,\n"
    ",,,,,,\n"  # a blank row a spreadsheet left behind
)


def write(tmp_path: Path, name: str, text: str, *, bom: bool = False) -> Path:
    """A file as a spreadsheet saves it (with a byte-order mark when `bom`)."""
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def report(sh: Shell, command: str, *, expect: int = 0) -> dict[str, Any]:
    """`import ... --format json`, validated against schemas/import.schema.json."""
    data = validate_output("import", sh.run(f"{command} --format json", expect=expect).stdout)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("bom", [True, False])
def test_people_from_a_spreadsheet(org: Shell, tmp_path: Path, bom: bool) -> None:
    path = write(tmp_path, "people.csv", PEOPLE_CSV, bom=bom)
    before = dump(org.db)
    planned = report(org, f"import {path} --kind people --dry-run --as vperkins")
    assert planned["dry_run"] is True and planned["added"] == {"people": 2}
    assert planned["changes"] == [
        {"kind": "people", "row": 2, "id": "amiller", "action": "add"},
        {"kind": "people", "row": 3, "id": "bkhan", "action": "add"}]
    assert dump(org.db) == before  # a dry run writes nothing

    done = report(org, f"import {path} --kind people {org.as_('vperkins')}")
    assert (done["added"], done["rows"], done["operator"]) == ({"people": 2}, 2, "vperkins")
    person = json.loads(org.run("person show amiller --format json").stdout)
    assert (person["manager"], person["start_date"]) == ("bkhan", "2025-01-06")  # later row

    events = json.loads(org.run("audit log --format json --limit 3").stdout)
    assert [(e["action"], e["subject"]) for e in events] == [
        ("person.import", "amiller"), ("person.import", "bkhan"),
        ("register.import", "interact")]
    assert events[0]["details"]["row"] == 2
    assert events[2]["details"]["file"] == "people.csv"
    assert len(events[2]["details"]["sha256"]) == 64
    assert org.run("audit verify").exit_code == 0

    # The same file again changes nothing: every row is already there.
    again = report(org, f"import {path} --kind people {org.as_('vperkins')}")
    assert (again["added"], again["unchanged"]) == ({"people": 0}, {"people": 2})


def test_the_table_report_and_no_progress_bar_when_piped(org: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", PEOPLE_CSV)
    result = org.run(f"import {path} --kind people --dry-run --as vperkins")
    assert result.stdout.startswith("people.csv: 2 rows read (people: 2 to add, 0 already "
                                    "there). Dry run: nothing was written.")
    assert "amiller" in result.stdout
    result = org.run(f"import {path} --kind people {org.as_('vperkins')}")
    assert result.stderr == ""  # no progress bar: the output is not a terminal
    assert "Imported." in result.stdout


def test_every_bad_row_is_named_and_nothing_is_imported(org: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", (
        "id,name,email,category,manager,status,leave_date\n"
        "good,Good Person,g@example.org,volunteer,,,\n"
        "Bad Id,X,x@example.org,volunteer,,,\n"
        "noemail,No Email,not-an-email,intern,,,\n"
        "jdoe,Jo Doe,other@example.org,employee,,,\n"
        "twice,T,t@example.org,volunteer,ghost,,\n"
        "twice,T,t@example.org,volunteer,,,\n"
        "early,E,e@example.org,volunteer,,active,2025-01-01\n"
        "ctrl,Name\x1b[31m,c@example.org,volunteer,,,\n"
        "extra,E,e@example.org,volunteer,,,,surplus\n"
    ))
    before = dump(org.db)
    data = report(org, f"import {path} --kind people {org.as_('vperkins')}", expect=2)
    assert dump(org.db) == before  # not even the good row
    found = {(p["row"], p["column"]) for p in data["problems"]}
    assert found == {(3, "id"), (4, "email"), (4, "category"), (5, "id"), (6, "manager"),
                     (7, "id"), (8, "leave_date"), (9, "name"), (10, None)}
    reasons = {(p["row"], p["column"]): p["reason"] for p in data["problems"]}
    assert reasons[(4, "category")].startswith("must be one of: trustee, ceo, employee")
    assert "already in the register with a different email" in reasons[(5, "id")]
    assert reasons[(7, "id")] == "twice appears twice in this file (first in row 6)"
    assert reasons[(6, "manager")] == "ghost is not a person in the register or in this file"
    assert reasons[(10, None)] == "the row has 8 cells, but the header names 7 columns"
    result = org.run(f"import {path} --kind people {org.as_('vperkins')}", expect=2)
    assert one_line_error(result) == \
        "Error: 9 problems in people.csv (listed above); nothing was imported"
    assert "row" in result.stdout and "twice appears twice" in result.stdout


def test_problems_are_listed_up_to_a_limit_then_counted(org: Shell, tmp_path: Path) -> None:
    rows = "".join(f"p{n},P {n},p{n}@example.org,astronaut\n" for n in range(30))
    path = write(tmp_path, "people.csv", "id,name,email,category\n" + rows)
    data = report(org, f"import {path} --kind people {org.as_('vperkins')}", expect=2)
    assert (len(data["problems"]), data["problems_total"], data["more_problems"]) == (20, 30, 10)
    result = org.run(f"import {path} --kind people {org.as_('vperkins')}", expect=2)
    assert "... and 10 more problems." in result.stdout
    assert "30 problems in people.csv (the first 20 are listed)" in one_line_error(result)


def test_a_bad_header_is_reported_before_any_row(org: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv",
                 "id,name,mail-address,category,,name\nx,X,x@e.org,other,,\n")
    data = report(org, f"import {path} --kind people {org.as_('vperkins')}", expect=2)
    assert {(p["row"], p["column"]) for p in data["problems"]} == {
        (1, "mail_address"), (1, "column 5"), (1, "name"), (1, "email")}


@pytest.mark.parametrize(("content", "message"), [
    (b"id,name\n\x81\xfe,bad\n", "people.csv is neither UTF-8 nor Windows-1252 text (byte 9)"),
    (b"", "the file is empty"),
    (b"id,name\n\"unterminated,x\n", None),
])
def test_unreadable_files_are_one_line(org: Shell, tmp_path: Path, content: bytes,
                                       message: str | None) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    before = dump(org.db)
    result = org.run(f"import {path} --kind people {org.as_('vperkins')}", expect=2)
    line = one_line_error(result)
    assert message is None or message in line
    assert dump(org.db) == before


def test_json_files(org: Shell, tmp_path: Path) -> None:
    path = tmp_path / "people.json"
    path.write_text(json.dumps([{"id": "amiller", "name": "Al Miller", "email": "a@example.org",
                                 "category": "volunteer", "title": None}]), encoding="utf-8")
    result = org.run(f"import {path} --dry-run --as vperkins", expect=2)
    assert "say what it holds with --kind" in one_line_error(result)
    assert report(org, f"import {path} --kind people {org.as_('vperkins')}")["added"] == {
        "people": 1}
    path.write_text(json.dumps(["not an object", {"id": 7}]), encoding="utf-8")
    data = report(org, f"import {path} --kind people --dry-run --as vperkins", expect=2)
    assert (data["problems"][0]["row"], data["problems"][0]["reason"]) == (
        1, "must be a JSON object")
    assert {"row": 2, "column": "id", "reason": "must be text", "kind": "people"} in \
        data["problems"]
    path.write_text("{not json", encoding="utf-8")
    result = org.run(f"import {path} --kind people --dry-run", expect=2)
    assert "people.json is not valid JSON (line 1, column 2" in one_line_error(result)


# -- the rules of the one-by-one commands hold -------------------------------------------------

def test_a_new_trustee_needs_a_board_minute(org: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", "id,name,email,category\nrwu,R Wu,r@example.org,"
                                         "trustee\nceo2,C Two,c@example.org,ceo\n")
    data = report(org, f"import {path} --kind people {org.as_('vperkins')}", expect=3)
    reasons = [p["reason"] for p in data["problems"]]
    assert "making rwu a trustee needs the board minute that decided it: add --board-minute " \
           "REF" in reasons
    assert "vperkins is already the active CEO; there can be only one" in reasons
    result = org.run(f"import {path} --kind people {org.as_('vperkins')}", expect=3)
    assert "beyond what vperkins may do" in one_line_error(result)
    refused = json.loads(org.run("audit log --action refused --format json").stdout)
    assert refused[-1]["details"]["attempted"] == "register.import"
    path = write(tmp_path, "people.csv", "id,name,email,category\nrwu,R Wu,r@example.org,"
                                         "trustee\n")
    report(org, f"import {path} --kind people --board-minute 'BM 2026/12' "
                f"{org.as_('vperkins')}")
    (event,) = json.loads(org.run("audit log --action person.import --format json").stdout)
    assert event["details"]["board_minute"] == "BM 2026/12"


def test_only_an_approver_with_mfa_imports(org: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", PEOPLE_CSV)
    org.enrol("jdoe", by="vperkins")
    result = org.run(f"import {path} --kind people {org.as_('jdoe')}", expect=3)
    assert "only the CEO or a trustee can import records" in one_line_error(result)
    result = org.run(f"import {path} --kind people --as vperkins", expect=3)
    assert "this needs vperkins's MFA" in one_line_error(result)


def test_nobody_imports_an_account_they_would_control(org: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", (
        "id,platform,handle,owner,purpose,overseer,recovery_email,kind\n"
        "x-main,x,@interact_x,vperkins,News,,,\n"
        "wa-youth,whatsapp,Youth,spatel,Chat,vperkins,,messaging-group\n"
        "fb-main,facebook,InterAct,spatel,News,,V@Example.org,\n"
        "tt-main,tiktok,@i,spatel,Clips,,,\n"))
    data = report(org, f"import {path} --kind accounts {org.as_('vperkins')}", expect=3)
    assert {(p["row"], p["column"]) for p in data["problems"]} == {
        (2, "owner"), (3, "overseer"), (4, "recovery_email")}
    data = report(org, f"import {path} --kind accounts {org.as_('spatel')}", expect=3)
    assert {(p["row"], p["column"]) for p in data["problems"]} == {
        (3, "owner"), (4, "owner"), (5, "owner")}
    path = write(tmp_path, "accounts.csv", (
        "id,platform,handle,owner,purpose,access,mfa_method\n"
        "x-main,x,@interact_x,vperkins,News,,totp\n"
        "bs-main,bluesky,@i,vperkins,Clips,delegated,\n"))
    data = report(org, f"import {path} --kind accounts {org.as_('spatel')}", expect=2)
    assert [p["reason"] for p in data["problems"]] == [
        "Bluesky gives no per-person roles on an organisation's account; use shared-login"]


GRANTS_HEADER = "person,account,role,reason,decided_by,authority,decided_at,status,expires\n"


@pytest.fixture
def staff(org: Shell) -> Shell:
    """org plus bkhan (employee) and a shared-login TikTok account with its password."""
    org.run(f"person add bkhan --name 'Bo Khan' --email b@example.org --category employee "
            f"{org.as_('vperkins')}")
    org.run(f"account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
            f"--purpose Clips --access shared-login {org.as_('spatel')}")
    org.run(f"cred set tiktok-main --kind password --stdin {org.as_('vperkins')}",
            input="Pass-Word-1234\n")
    return org


def test_an_imported_grant_is_the_importers_approval_with_the_file_kept_as_a_claim(
        staff: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "grants.csv", GRANTS_HEADER + (
        "jdoe,instagram-main,editor,Youth events,vperkins,ceo,2025-03-01,,\n"
        "bkhan,tiktok-main,member,Clips,spatel,trustee,2025-04-01T10:30:00Z,,2099-12-31\n"
        "bkhan,instagram-main,analyst,Reports,vperkins,ceo,2024-01-01,expired,2024-06-30\n"))
    data = report(staff, f"import {path} --kind grants {staff.as_('spatel')}")
    assert data["added"] == {"grants": 3}
    grants = validate_output("grant-list", staff.run("grant list --format json").stdout)
    # spatel imported them, with her MFA: the approvals are hers, on her authority.
    assert [(g["id"], g["status"], g["decided_by"], g["authority"], g["mfa_verified"],
             g["verified_by"]) for g in grants] == [  # type: ignore[union-attr]
        ("G-0001", "active", "spatel", "trustee", True, "totp code"),
        ("G-0002", "active", "spatel", "trustee", True, "totp code"),
        ("G-0003", "expired", "spatel", "trustee", True, "totp code")]
    assert [g["approval_note"] for g in grants] == [  # type: ignore[index]
        "recorded as approved by vperkins on 2025-03-01 (imported by spatel)",
        "recorded as approved by spatel on 2025-04-01 (imported by spatel)",
        "recorded as approved by vperkins on 2024-01-01 (imported by spatel)"]
    # A grant on a shared login: its holder could know the password, as with grant add.
    creds = json.loads(staff.run("cred list --format json").stdout)
    assert "bkhan" in creds[0]["exposed_to_current"]
    assert staff.run("audit verify").exit_code == 0
    # The export gives back what the file said, so a round trip keeps the history.
    exported = json.loads(staff.run("export").stdout)["grants"]
    assert [(g["decided_by"], g["authority"], g["decided_at"]) for g in exported] == [
        ("vperkins", "ceo", "2025-03-01T00:00:00Z"),
        ("spatel", "trustee", "2025-04-01T10:30:00Z"),
        ("vperkins", "ceo", "2024-01-01T00:00:00Z")]


def test_a_trustee_cannot_credit_the_ceo_with_an_approval(staff: Shell,
                                                            tmp_path: Path) -> None:
    """The attack: a trustee imports a grant 'approved by the CEO'. Every report says who
    really approved it, and check names the claim until the CEO confirms it herself."""
    path = write(tmp_path, "grants.csv", GRANTS_HEADER +
                 "jdoe,instagram-main,editor,Youth events,vperkins,ceo,2025-03-01,,\n")
    report(staff, f"import {path} --kind grants {staff.as_('spatel')}")
    note = "recorded as approved by vperkins on 2025-03-01 (imported by spatel)"
    access = json.loads(staff.run("report access --format json").stdout)
    row = next(r for r in access if r["grant"] == "G-0001")
    assert (row["approved_by"], row["approval_note"]) == ("spatel", note)
    findings = json.loads(staff.run("check --format json", expect=1).stdout)["findings"]
    claims = [f for f in findings if f["rule"] == "ACC-007"]
    assert len(claims) == 1 and claims[0]["subject"] == "vperkins"
    assert "1 live grant imported by" in claims[0]["message"]
    assert "G-0001" in claims[0]["message"]
    # Nobody but the person named confirms: not the importer, not another approver.
    refused = staff.run(f"grant confirm G-0001 {staff.as_('spatel')}", expect=3)
    assert one_line_error(refused) == ("Error: only the person themselves can confirm an imported "
                                       "approval recorded in their name; spatel is not")
    assert staff.run(f"grant confirm G-0001 {staff.as_('vperkins')}").exit_code == 0
    after = json.loads(staff.run("grant show G-0001 --format json").stdout)
    assert after["approval_note"].startswith(note[:-1] + "; confirmed by vperkins on ")
    findings = json.loads(staff.run("check --format json", expect=1).stdout)["findings"]
    assert not [f for f in findings if f["rule"] == "ACC-007"]
    again = staff.run(f"grant confirm --all {staff.as_('vperkins')}", expect=2)
    assert one_line_error(again) == "Error: no imported grant is waiting for vperkins to confirm it"
    assert staff.run("audit verify").exit_code == 0


def test_a_claim_cannot_be_confirmed_behind_the_log(staff: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "grants.csv", GRANTS_HEADER +
                 "jdoe,instagram-main,editor,Youth events,vperkins,ceo,2025-03-01,,\n")
    report(staff, f"import {path} --kind grants {staff.as_('spatel')}")
    behind_the_log(staff.db, "UPDATE approval_claims SET confirmed_at = '2026-01-01T00:00:00Z'")
    assert staff.run("audit verify", expect=1).exit_code == 1
    refused = staff.run(f"grant confirm G-0001 {staff.as_('vperkins')}", expect=3)
    assert "the approval_claims row 'G-0001' does not carry accessgov's seal" in \
        one_line_error(refused)
    behind_the_log(staff.db, "DELETE FROM approval_claims")
    refused = staff.run(f"grant confirm G-0001 {staff.as_('vperkins')}", expect=3)
    assert "G-0001 should have 1 approval_claims record(s)" in one_line_error(refused)


@pytest.mark.parametrize(("row", "column", "reason"), [
    ("jdoe,instagram-main,editor,x,,,,,", "decided_by",
     "is required: an imported grant names who decided it, with what authority, and when"),
    ("jdoe,instagram-main,editor,x,jdoe,ceo,2025-01-01,,", "decided_by",
     "nobody approves their own access"),
    ("jdoe,instagram-main,editor,x,ghost,ceo,2025-01-01,,", "decided_by",
     "ghost is not a person in the register"),
    ("jdoe,instagram-main,editor,x,bkhan,ceo,2025-01-01,,", "authority",
     "bkhan is an employee, not the CEO or a trustee, so cannot have approved it as ceo"),
    ("jdoe,instagram-main,editor,x,bkhan,delegation:D-0009,2025-01-01,,", "authority",
     "D-0009 is not a delegation in the register"),
    ("jdoe,instagram-main,editor,x,vperkins,boss,2025-01-01,,", "authority",
     "must be ceo, trustee or delegation:D-NNNN (it is 'boss')"),
    ("jdoe,instagram-main,editor,x,vperkins,ceo,2025-02-30,,", "decided_at",
     "2025-02-30 is not a real date and time"),
    ("jdoe,instagram-main,editor,x,vperkins,ceo,2999-01-01,,", "decided_at",
     "2999-01-01 is in the future"),
    ("jdoe,instagram-main,owner,x,vperkins,ceo,2025-01-01,,", "role",
     "must be one of: admin, editor, moderator, analyst, member (it is 'owner')"),
    ("jdoe,instagram-main,member,x,vperkins,ceo,2025-01-01,,", "role",
     "Instagram does not have a 'member' role; choose one of: admin, editor, moderator, "
     "analyst"),
    ("jdoe,nowhere,editor,x,vperkins,ceo,2025-01-01,,", "account",
     "nowhere is not an account in the register"),
    ("jdoe,instagram-main,editor,x,vperkins,ceo,2025-01-01,,2025-06-01", "expires",
     "2025-06-01 has passed: import it with status expired"),
    ("jdoe,instagram-main,editor,x,vperkins,ceo,2025-01-01,pending,", "decided_by",
     "a pending request has no decision yet"),
    ("jdoe,instagram-main,editor,x,vperkins,ceo,2025-01-01,revoked,", "revoked_by",
     "is required for a revoked grant"),
    ("jdoe,instagram-main,editor,x,vperkins,ceo,2025-01-01,granted,", "status",
     "must be one of: pending, active, declined, revoked, expired (it is 'granted')"),
])
def test_a_bad_grant_row_is_named(staff: Shell, tmp_path: Path, row: str, column: str,
                                  reason: str) -> None:
    path = write(tmp_path, "grants.csv", GRANTS_HEADER + row + "\n")
    before = dump(staff.db)
    data = report(staff, f"import {path} --kind grants {staff.as_('spatel')}", expect=2)
    assert {"kind": "grants", "row": 2, "column": column, "reason": reason} in \
        data["problems"], data["problems"]
    assert {k: v for k, v in dump(staff.db).items() if k not in ("audit", "mfa")} == \
        {k: v for k, v in before.items() if k not in ("audit", "mfa")}


def test_nobody_imports_access_for_themselves(staff: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "grants.csv", GRANTS_HEADER +
                 "spatel,instagram-main,editor,Board posts,vperkins,ceo,2025-01-01,,\n")
    data = report(staff, f"import {path} --kind grants {staff.as_('spatel')}", expect=3)
    assert data["problems"][0]["reason"] == ("spatel cannot import access for themselves; "
                                             "another approver imports this row")
    assert report(staff, f"import {path} --kind grants {staff.as_('vperkins')}")["added"] == {
        "grants": 1}


def test_one_live_grant_per_person_and_account(staff: Shell, tmp_path: Path) -> None:
    staff.run(f"grant add jdoe instagram-main --role editor --reason x {staff.as_('vperkins')}")
    path = write(tmp_path, "grants.csv", GRANTS_HEADER + (
        "jdoe,instagram-main,admin,x,spatel,trustee,2025-01-01,,\n"
        "bkhan,instagram-main,admin,x,spatel,trustee,2025-01-01,,\n"
        "bkhan,instagram-main,editor,x,spatel,trustee,2025-01-01,,\n"))
    data = report(staff, f"import {path} --kind grants {staff.as_('vperkins')}", expect=2)
    assert [(p["row"], p["reason"]) for p in data["problems"]] == [
        (2, "jdoe already has grant G-0001 on instagram-main"),
        (4, "bkhan already has grant G-0002 on instagram-main")]


def test_a_leaver_is_given_nothing_by_import(staff: Shell, tmp_path: Path) -> None:
    staff.run(f"offboard start jdoe {staff.as_('vperkins')}")
    path = write(tmp_path, "grants.csv", GRANTS_HEADER +
                 "jdoe,instagram-main,editor,x,vperkins,ceo,2025-01-01,,\n")
    data = report(staff, f"import {path} --kind grants {staff.as_('spatel')}", expect=2)
    assert data["problems"][0]["reason"] == "jdoe has left; access cannot be granted to them"


def test_delegations_are_imported_by_the_ceo_and_approve_within_scope(
        staff: Shell, tmp_path: Path) -> None:
    path = write(tmp_path, "delegations.csv", (
        "id,delegate,accounts,granted_by,valid_from,all_accounts\n"
        "D-0007,bkhan,instagram-main; tiktok-main,vperkins,2025-01-01,no\n"))
    data = report(staff, f"import {path} --kind delegations {staff.as_('spatel')}", expect=3)
    assert data["problems"][0]["reason"] == ("only the CEO imports delegations, as only the "
                                             "CEO gives them")
    report(staff, f"import {path} --kind delegations {staff.as_('vperkins')}")
    listed = json.loads(staff.run("delegate list --format json").stdout)
    assert [(d["id"], d["accounts"], d["mfa_verified"]) for d in listed] == [
        ("D-0007", ["instagram-main", "tiktok-main"], False)]
    grants = write(tmp_path, "grants.csv", GRANTS_HEADER + (
        "jdoe,instagram-main,editor,x,bkhan,delegation:D-0007,2025-02-01,,\n"
        "jdoe,x-main,editor,x,bkhan,delegation:D-0007,2024-12-01,,\n"))
    staff.run(f"account add x-main --platform x --handle @x --owner vperkins --purpose News "
              f"{staff.as_('spatel')}")
    data = report(staff, f"import {grants} --kind grants {staff.as_('spatel')}", expect=2)
    assert [(p["row"], p["column"], p["reason"]) for p in data["problems"]] == [
        (3, "authority", "D-0007 does not cover x-main"),
        (3, "decided_at", "D-0007 was not in force on 2024-12-01")]
    # A new delegation with no id gets the number after every one used.
    more = write(tmp_path, "more.csv", "delegate,all_accounts,granted_by,valid_from\n"
                                       "jdoe,yes,vperkins,2025-01-01\n")
    planned = report(staff, f"import {more} --kind delegations --dry-run --as vperkins")
    assert planned["changes"][0]["id"] == "D-0008"
