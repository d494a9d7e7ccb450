"""Working the checklist: items tick themselves when the register shows them done, the rest
are ticked by an approver for their account, and the case closes when none is left."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.offboarding.conftest import show
from tests.support.behind import behind_the_log, events, file_only, read_rows
from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error


@pytest.fixture
def started(leaver: Shell) -> Shell:
    """jdoe offboarded by the CEO (items 1-7 open, 8-9 done)."""
    leaver.run(f"offboard start jdoe {leaver.as_('vperkins')}")
    return leaver


def _status(sh: Shell) -> dict[int, str]:
    return {item["item"]: item["status"] for item in show(sh)["items"]}


def _rotation_item(sh: Shell) -> tuple[int, str]:
    """The number of the checklist item that rotating the shared password ticks, and its
    account."""
    return next((item["item"], item["account"]) for item in show(sh)["items"]
                if item["kind"] == "rotate")


def _rotated_after(sh: Shell, forgery: str, password: str) -> tuple[str, str]:
    """Run `forgery` behind the log (`{rotation}` in it: the rotation item's number), then
    the CEO rotates the shared password, whose item ticks itself: the case's status and that
    item's, as stored. (A forged case, open with nothing left to do, is outside what
    `offboard show` promises, as any row written behind the log is.)"""
    rotation, account = _rotation_item(sh)
    behind_the_log(sh.db, forgery.format(rotation=rotation))
    sh.run(f"cred rotate {account} --kind password --stdin {sh.as_('vperkins')}",
           input=f"{password}\n")
    [(status,)] = read_rows(sh.db, "SELECT status FROM offboarding_cases WHERE id = 'O-0001'")
    [(ticked,)] = read_rows(sh.db, "SELECT status FROM offboarding_items "
                            f"WHERE case_id = 'O-0001' AND item = {rotation}")
    return status, ticked


def test_a_rotation_that_ticks_the_last_open_item_closes_the_case(started: Shell) -> None:
    """Every item but the password's rotation is ticked by hand; the CEO then rotates the
    password, and that last item ticks itself and closes the case."""
    rotation, account = _rotation_item(started)
    for item in show(started)["items"]:
        if item["status"] == "open" and item["item"] != rotation:
            started.run(f"offboard done jdoe {item['item']} --note 'Done on the platform' "
                        f"{started.as_('vperkins')}")
    started.run(f"cred rotate {account} --kind password --stdin {started.as_('vperkins')}",
                input="Rotated-After-Jdoe-Left-3\n")
    case = show(started)
    assert (case["status"], case["items_open"]) == ("closed", 0)
    assert [event["subject"] for event in events(started, "offboard.close")] == ["O-0001"]
    assert started.run("audit verify").exit_code == 0


def test_rotation_reseed_and_reassignment_tick_themselves(started: Shell) -> None:
    sh, as_ = started, started.as_
    sh.run(f"cred rotate tiktok-main --stdin {as_('vperkins')}", input="Second-Pass-99\n")
    sh.run(f"cred rotate tiktok-main --kind totp-seed --stdin {as_('vperkins')}",
           input="GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    assert _status(sh)[3] == "done" and _status(sh)[4] == "done"
    item = show(sh)["items"][2]
    assert (item["done_by"], item["note"]) == ("vperkins", "done: version 2 is now current")

    sh.run(f"account update whatsapp-youth --overseer spatel {as_('vperkins')}")
    sh.run(f"account update linkedin-main --owner spatel {as_('vperkins')}")
    # Changing the case of the address is not changing it.
    sh.run(f"account update whatsapp-youth --recovery-email j@example.ORG {as_('vperkins')}")
    assert [_status(sh)[n] for n in (5, 6, 7)] == ["done", "done", "open"]
    sh.run(f"account update whatsapp-youth --recovery-email youth@example.org "
           f"{as_('spatel')}")
    assert _status(sh)[7] == "done"
    ticks = events(sh, "offboard.tick")
    assert [(e["subject"], e["details"]["item"]) for e in ticks] == [
        ("O-0001", 3), ("O-0001", 4), ("O-0001", 5), ("O-0001", 6), ("O-0001", 7)]
    assert show(sh)["status"] == "open"  # the platform removals are still to do


def test_a_generated_password_nobody_saw_does_not_tick_the_rotation(started: Shell) -> None:
    """Issue 16, item 2: rotated to a password nobody was shown, the platform still has the
    old one, so the item stays open until someone able to change it has the new one."""
    sh, as_ = started, started.as_
    sh.run(f"cred rotate tiktok-main --generate {as_('vperkins')}")  # piped: not shown
    assert _status(sh)[3] == "open"
    sh.run(f"cred reveal tiktok-main {as_('vperkins')}")  # the rotating CEO may reveal it
    assert _status(sh)[3] == "done"


def test_archiving_an_account_settles_its_hand_over(started: Shell) -> None:
    started.run(f"account update linkedin-main --owner vperkins {started.as_('spatel')}")
    started.run(f"account archive whatsapp-youth --reason 'Group closed' "
                f"{started.as_('vperkins')}")
    items = show(started)["items"]
    assert (items[4]["status"], items[4]["note"]) == ("done", "done: the account was archived")
    assert items[6]["status"] == "done"


def test_items_are_ticked_by_approvers_for_their_account_and_the_case_closes(
        started: Shell) -> None:
    sh, as_ = started, started.as_
    sh.run("logout")
    sh.run(f"person add bkhan --name 'Bo Khan' --email b@example.org --category employee "
           f"{as_('vperkins')}")
    sh.enrol("bkhan", by="vperkins")
    sh.run(f"delegate add bkhan --account instagram-main {as_('vperkins')}")
    # A delegate for instagram-main ticks its item, not tiktok-main's.
    result = sh.run(f"offboard done jdoe 1 {as_('bkhan')}", expect=3)
    assert "not the CEO, a trustee or a delegate for tiktok-main" in one_line_error(result)
    result = sh.run(f"offboard done jdoe 2 --note 'Removed in Business Suite' {as_('bkhan')}")
    assert "Ticked item 2 of O-0001: 6 still to do." in result.stdout
    item = show(sh)["items"][1]
    assert (item["done_by"], item["note"]) == ("bkhan", "Removed in Business Suite")

    # An item that ticks itself needs a note to be ticked by hand.
    before = dump(sh.db)
    result = sh.run(f"offboard done jdoe 3 --as vperkins --otp {sh.code('vperkins')}",
                    expect=2)
    assert "ticks itself" in one_line_error(result) and "--note" in result.stderr
    assert dump(sh.db) == before
    result = sh.run(f"offboard done jdoe 2 {as_('vperkins')}", expect=2)
    assert "item 2 of O-0001 was already done" in one_line_error(result)
    result = sh.run(f"offboard done jdoe 99 {as_('vperkins')}", expect=2)
    assert "O-0001 has no item 99" in one_line_error(result)

    sh.run(f"offboard done jdoe 1 {as_('spatel')}")
    for number in (3, 4, 5, 6):
        sh.run(f"offboard done jdoe {number} --note 'Done on the platform, recorded later' "
               f"{as_('vperkins')}")
    result = sh.run(f"offboard done jdoe 7 --note 'Phone support changed it' "
                    f"{as_('spatel')}")
    assert "every item is done, so O-0001 is closed" in result.stdout
    case = show(sh)
    assert (case["status"], case["items_open"], case["closed_by"]) == ("closed", 0, "spatel")
    listed = validate_output("offboard-list", sh.run("offboard list --format json").stdout)
    assert [(c["case"], c["status"], c["items_open"]) for c in listed] == [
        ("O-0001", "closed", 0)]
    assert validate_output("offboard-list",
                           sh.run("offboard list --open --format json").stdout) == []
    result = sh.run(f"offboard done jdoe 1 {as_('vperkins')}", expect=2)
    assert "jdoe has no open offboarding case" in one_line_error(result)
    assert sh.run("audit verify").exit_code == 0


def test_list_shows_open_and_scheduled_cases(started: Shell) -> None:
    started.run(f"person add amiller --name 'Al Miller' --email a@example.org "
                f"--category volunteer {started.as_('vperkins')}")
    started.run(f"offboard start amiller --leave-date 2099-01-01 {started.as_('spatel')}")
    listed = validate_output("offboard-list", started.run(
        "offboard list --open --format json").stdout)
    assert [(c["case"], c["person"], c["status"]) for c in listed] == [
        ("O-0001", "jdoe", "open"), ("O-0002", "amiller", "scheduled")]
    table = started.run("offboard list").stdout
    assert "O-0002" in table and "scheduled" in table
    assert started.run("offboard list --format csv").stdout.startswith("case,person,name")
    scheduled = validate_output("offboard-show", started.run(
        "offboard show amiller --format json").stdout)
    assert scheduled["status"] == "scheduled"  # type: ignore[index]
    assert "The checklist is made on 2099-01-01" in started.run("offboard show amiller").stdout
    result = started.run(f"offboard done amiller 1 {started.as_('spatel')}", expect=2)
    assert "scheduled for 2099-01-01" in one_line_error(result)


def test_export_in_every_format(started: Shell, tmp_path: Path) -> None:
    sh = started
    sh.run(f"offboard done jdoe 2 --note '=HYPERLINK(\"http://evil\")' {sh.as_('vperkins')}")
    data = validate_output("offboard-export", sh.run(
        "offboard export jdoe --format json").stdout)
    assert data == show(sh)

    target = tmp_path / "out"
    target.mkdir()
    sh.run(f"offboard export jdoe --format csv -o {target / 'jdoe.csv'}")
    raw = (target / "jdoe.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte-order mark, so Excel reads UTF-8
    assert stat.S_IMODE(os.stat(target / "jdoe.csv").st_mode) == 0o600
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text  # defused for spreadsheets
    assert text.count("\nO-0001,jdoe,") == 9

    markdown = sh.run("offboard export jdoe --format md").stdout
    assert markdown.startswith("# Offboarding checklist: Jo Doe (jdoe)")
    assert "| item | status" in markdown.replace("  ", " ")

    html = sh.run("offboard export jdoe --format html").stdout
    assert html.startswith("<!DOCTYPE html>")
    # Self-contained: no script, stylesheet, image or font fetched from anywhere.
    for outside in ("<script", "<link", "<img", "src=", "url("):
        assert outside not in html
    assert "default-src 'none'" in html
    assert "=HYPERLINK(&#34;http://evil&#34;)" in html


def test_html_escapes_what_people_typed(org: Shell) -> None:
    org.run(f"person add eve --name '<img src=x onerror=alert(1)> Eve' --email e@example.org "
            f"--category volunteer {org.as_('vperkins')}")
    org.run(f"offboard start eve --reason '<b>gone</b>' {org.as_('vperkins')}")
    html = org.run("offboard export eve --format html").stdout
    assert "<img" not in html and "<b>gone" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; Eve" in html
    markdown = org.run("offboard export eve --format md").stdout
    assert "\\<img" in markdown and "<img" not in markdown.replace("\\<img", "")
    data = json.loads(org.run("offboard export eve --format json").stdout)
    assert data["name"] == "<img src=x onerror=alert(1)> Eve"


def test_the_schema_names_every_status_and_kind_the_code_uses() -> None:
    from accessgov.governance import offboarding
    from tests.support.schemas import load_schema

    defs = load_schema("offboard-show")["$defs"]
    assert tuple(defs["case"]["properties"]["status"]["enum"]) == offboarding.STATUSES
    assert tuple(defs["item"]["properties"]["kind"]["enum"]) == offboarding.ITEM_KINDS


def test_items_ticked_with_sqlite3_never_close_the_case(started: Shell) -> None:
    """An insider marks items 2 to 7 done straight in the register (the platform removals
    among them). An approver's honest tick of item 1 would close the case: it is refused,
    and the case stays open, its forged items named by audit verify."""
    behind_the_log(started.db, "UPDATE offboarding_items SET status = 'done', "
                   "done_by = 'spatel', done_at = '2026-01-02T00:00:00Z' WHERE case_id = 'O-0001' "
                   "AND item BETWEEN 2 AND 7")
    result = started.run(f"offboard done jdoe 1 {started.as_('spatel')}", expect=3)
    assert "changed outside accessgov" in one_line_error(result)
    assert show(started)["status"] == "open"
    assert started.run("audit verify", expect=1).exit_code == 1


def test_a_change_that_ticks_the_last_honest_item_leaves_a_forged_case_open(
        started: Shell) -> None:
    """The same forgery, then the CEO rotates the shared password (item 3 ticks itself):
    the rotation goes through, and the case is not closed on the forged items."""
    assert _rotated_after(started, "UPDATE offboarding_items SET status = 'done', "
                          "done_by = 'spatel', done_at = '2026-01-02T00:00:00Z' "
                          "WHERE case_id = 'O-0001' AND item != {rotation}",
                          "Rotated-After-Jdoe-Left-1") == ("open", "done")


def test_items_deleted_with_sqlite3_never_close_the_case(started: Shell) -> None:
    """An insider deletes the open items 2 to 7 straight from the register, instead of
    ticking them. The approver's honest tick of item 1 would close the case: the case counts
    its items under its seal, so the tick is refused and nothing changes."""
    behind_the_log(started.db, "DELETE FROM offboarding_items WHERE case_id = 'O-0001' "
                   "AND item BETWEEN 2 AND 7")
    before = read_rows(started.db, "SELECT item, status FROM offboarding_items ORDER BY item")
    result = started.run(f"offboard done jdoe 1 {started.as_('spatel')}", expect=3)
    assert "changed outside accessgov" in one_line_error(result)
    assert read_rows(started.db, "SELECT item, status FROM offboarding_items "
                     "ORDER BY item") == before
    [(status,)] = read_rows(started.db, "SELECT status FROM offboarding_cases "
                            "WHERE id = 'O-0001'")
    assert status == "open"
    assert not events(started, "offboard.close")


def test_a_change_that_ticks_the_last_item_left_by_a_deletion_leaves_the_case_open(
        started: Shell) -> None:
    """The insider deletes every open item but the rotation, then the CEO rotates the
    password (the item ticks itself): the rotation goes through, the case stays open."""
    assert _rotated_after(started, "DELETE FROM offboarding_items WHERE case_id = 'O-0001' "
                          "AND status = 'open' AND item != {rotation}",
                          "Rotated-After-Jdoe-Left-2") == ("open", "done")
    assert not events(started, "offboard.close")


@pytest.fixture
def before_cases_counted(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """accessgov as it was before cases counted their items (schema 11): undo it to upgrade."""
    from accessgov.db import migrations, migrations_postgres, seals, sqlite

    older = migrations.MIGRATIONS[:11]
    counted = {child: parent for child, parent in seals.COUNTED.items()
               if child != "offboarding_items"}
    monkeypatch.setattr(migrations, "MIGRATIONS", older)
    for module in (migrations, migrations_postgres, sqlite):
        monkeypatch.setattr(module, "LATEST_VERSION", len(older))
    monkeypatch.setattr(seals, "COUNTED", counted)
    monkeypatch.setattr(seals, "COUNTING", sorted({p for p, _ in counted.values()}))
    return monkeypatch


@file_only("the suite's PostgreSQL tables are made once, at the newest schema")
def test_a_case_from_before_counts_is_counted_by_the_first_change_and_then_holds(
        before_cases_counted: pytest.MonkeyPatch, leaver: Shell) -> None:
    leaver.run(f"offboard start jdoe {leaver.as_('vperkins')}")
    before_cases_counted.undo()  # this accessgov now: the next change upgrades the register
    leaver.run(f"offboard done jdoe 2 --note 'Removed in Business Suite' "
               f"{leaver.as_('vperkins')}")
    [counted] = events(leaver, "register.count")
    assert counted["details"]["rows_counted"] == 1
    [(counts,)] = read_rows(leaver.db, "SELECT counts FROM offboarding_cases")
    assert counts == "offboarding_items=9"
    behind_the_log(leaver.db, "DELETE FROM offboarding_items WHERE case_id = 'O-0001' "
                   "AND item BETWEEN 3 AND 7")
    result = leaver.run(f"offboard done jdoe 1 {leaver.as_('spatel')}", expect=3)
    assert "should have 9 offboarding_items record(s)" in one_line_error(result)
    assert "intact" not in leaver.run("audit verify", expect=1).stdout
