"""Quarterly access reviews: start, show, decide, close, and every refusal on the way."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from accessgov.governance.review import ITEM_COLUMNS, quarter_of
from tests.support.behind import behind_the_log, events, read_dicts, read_rows
from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error


def quarter(sh: Shell) -> str:
    return quarter_of(sh.clock.now.date().isoformat())


def show(sh: Shell, options: str = "") -> dict[str, Any]:
    """`review show --format json`, validated against schemas/review-show.schema.json."""
    data = validate_output("review-show", sh.run(f"review show {options} --format json").stdout)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def granted(org: Shell) -> Shell:
    """org with four live grants on two accounts, and two grants that are not live:
    G-0001 jdoe editor and G-0002 spatel admin on instagram-main (approved by the CEO);
    G-0003 vperkins admin and G-0004 jdoe editor on x-main (approved by spatel);
    G-0005 revoked, G-0006 pending."""
    sh, as_ = org, org.as_
    sh.run(f"account add x-main --platform x --handle @interact_x --owner spatel "
           f"--purpose News --mfa totp {as_('vperkins')}")
    sh.run(f"grant add jdoe instagram-main --role editor --reason Events {as_('vperkins')}")
    sh.run(f"grant add spatel instagram-main --role admin --reason Board {as_('vperkins')}")
    sh.run(f"grant add vperkins x-main --role admin --reason CEO {as_('spatel')}")
    sh.run(f"grant add jdoe x-main --role editor --reason News {as_('spatel')}")
    sh.run(f'person add amiller --name "Al Miller" --email a@example.org --category volunteer '
           f'{as_("vperkins")}')
    sh.run(f"grant add amiller x-main --role editor --reason Cover {as_('spatel')}")
    sh.run(f"grant revoke G-0005 --reason Over {as_('spatel')}")
    sh.run(f"grant request amiller instagram-main --role analyst --reason Stats "
           f"{as_('vperkins')}")
    return sh


@pytest.fixture
def started(granted: Shell) -> Shell:
    granted.run(f"review start {granted.as_('vperkins')}")
    return granted


def test_start_snapshots_every_live_grant_numbered_by_account(started: Shell) -> None:
    data = show(started)
    items = data["items"]
    assert [(i["item"], i["grant_id"], i["account"]) for i in items] == [
        (1, "G-0001", "instagram-main"), (2, "G-0002", "instagram-main"),
        (3, "G-0003", "x-main"), (4, "G-0004", "x-main")]
    assert data["progress"] == {"items": 4, "kept": 0, "revoked": 0, "undecided": 4}
    campaign = data["campaign"]
    assert (campaign["id"], campaign["status"], campaign["started_by"]) == (
        quarter(started), "open", "vperkins")
    ids = json.dumps([i["grant_id"] for i in items], separators=(",", ":"))
    assert campaign["snapshot_sha256"] == hashlib.sha256(ids.encode()).hexdigest()
    (event,) = events(started, "review.start")
    assert event["subject"] == campaign["id"]
    assert event["details"]["items"] == 4
    assert event["details"]["snapshot_sha256"] == campaign["snapshot_sha256"]
    assert items[0]["approved_by"] == "vperkins" and items[2]["authority"] == "trustee"


def test_the_items_query_names_its_columns_in_order(started: Shell) -> None:
    from accessgov.db.register import Register
    from accessgov.governance.review import item_rows

    register = Register.open(started.db)
    try:
        rows = list(item_rows(register, quarter(started),
                              started.clock.now.date().isoformat()))
        assert register.rows("SELECT * FROM review_campaigns")
        named = [dict(zip(ITEM_COLUMNS, row, strict=True)) for row in rows]
        assert named == show(started)["items"]
    finally:
        register.close()


def test_show_in_a_table_with_progress(started: Shell) -> None:
    text = started.run("review show").stdout
    assert text.startswith(f"review {quarter(started)}, status open")
    assert "undecided 4" in text and "G-0001" not in text.splitlines()[0]
    assert started.run(f"review show {quarter(started)} --format csv").stdout.splitlines()[0] \
        == ",".join(ITEM_COLUMNS)
    only = show(started, "--account x-main")
    assert [i["item"] for i in only["items"]] == [3, 4]


def test_a_decision_is_recorded_with_its_authority(started: Shell) -> None:
    q = quarter(started)
    result = started.run(f"review decide {q} 1 keep --note 'Still posts' {started.as_('spatel')}")
    assert result.stdout.strip() == f"Decided item 1 of {q}: keep."
    item = show(started)["items"][0]
    assert (item["decision"], item["decided_by"], item["decided_authority"], item["note"]) == (
        "keep", "spatel", "trustee", "Still posts")
    (event,) = events(started, "review.decide")
    assert (event["subject"], event["details"]["item"], event["details"]["grant"]) == (
        q, 1, "G-0001")
    assert show(started, "--undecided")["items"][0]["item"] == 2


def test_keep_all_on_an_account_is_one_decision_per_item_and_leaves_your_own(
        started: Shell) -> None:
    q = quarter(started)
    result = started.run(f"review decide {q} --all-keep --account instagram-main "
                         f"{started.as_('spatel')}")
    assert f"Decided item 1 of {q}: keep." in result.stdout
    assert "Left item 2 for another approver: G-0002 is spatel's own grant." in result.stdout
    assert [e["details"]["item"] for e in events(started, "review.decide")] == [1]
    result = started.run(f"review decide {q} --all-keep --account x-main "
                         f"{started.as_('vperkins')}")
    assert "Decided item 4" in result.stdout and "Left item 3" in result.stdout
    assert show(started)["progress"]["undecided"] == 2


def test_close_revokes_lists_the_platform_steps_and_records_the_head(started: Shell) -> None:
    sh, q = started, quarter(started)
    sh.run(f"review decide {q} 1 keep {sh.as_('spatel')}")
    sh.run(f"review decide {q} 2 revoke --note 'Board members post through staff' "
           f"{sh.as_('vperkins')}")
    sh.run(f"review decide {q} 3 keep {sh.as_('spatel')}")
    sh.run(f"review decide {q} 4 revoke {sh.as_('vperkins')}")
    before_close = events(sh, "review.decide")[-1]["seq"]
    result = sh.run(f"review close {q} {sh.as_('vperkins')}")
    assert f"Closed the {q} access review: 4 items, 2 revoked." in result.stdout
    assert "Meta Business Suite" in result.stdout  # instagram's own steps
    assert "Sonal Patel" in result.stdout and "Delegate" in result.stdout  # x's steps, jdoe
    campaign = show(sh)["campaign"]
    assert campaign["status"] == "closed" and campaign["revoked"] == 2
    assert campaign["head_seq"] == before_close
    head = json.loads(sh.run("audit log --format json").stdout)[before_close - 1]
    assert campaign["head_seq"] == head["seq"]
    revoked = [e for e in events(sh, "grant.revoke") if "review" in e["details"]]
    assert [(e["subject"], e["details"]["review"], e["details"]["decided_by"])
            for e in revoked] == [("G-0002", q, "vperkins"), ("G-0004", q, "vperkins")]
    grants = {g["id"]: g for g in json.loads(sh.run("grant list --format json").stdout)}
    assert grants["G-0002"]["status"] == "revoked"
    assert "Board members post through staff" in grants["G-0002"]["revoke_reason"]
    assert grants["G-0001"]["status"] == "active"
    sh.run("audit verify")  # every row the close wrote is explained by the log
    ((mac,),) = read_rows(sh.db, "SELECT mac FROM audit WHERE seq = ?", (before_close,))
    assert campaign["head_mac"] == mac


def test_a_grant_that_ended_during_the_review_is_not_revoked_twice(started: Shell) -> None:
    sh, q = started, quarter(started)
    for item, who in ((1, "spatel"), (2, "vperkins"), (3, "spatel")):
        sh.run(f"review decide {q} {item} keep {sh.as_(who)}")
    sh.run(f"review decide {q} 4 revoke {sh.as_('vperkins')}")
    sh.run(f"grant revoke G-0004 --reason 'Left the comms team' {sh.as_('spatel')}")
    result = sh.run(f"review close {q} {sh.as_('vperkins')}")
    assert "(the grant had already ended: revoked)" in result.stdout
    assert [e["subject"] for e in events(sh, "grant.revoke")] == ["G-0005", "G-0004"]


def test_a_delegate_decides_only_within_their_scope(started: Shell) -> None:
    sh, q = started, quarter(started)
    sh.run(f'person add bkhan --name "Bo Khan" --email b@example.org --category employee '
           f'{sh.as_("spatel")}')
    sh.enrol("bkhan", by="spatel")
    sh.run(f"delegate add bkhan --account x-main {sh.as_('vperkins')}")
    sh.run(f"review decide {q} 4 keep {sh.as_('bkhan')}")
    assert show(sh)["items"][3]["decided_authority"] == "delegation:D-0001"
    result = sh.run(f"review decide {q} 1 keep {sh.as_('bkhan')}", expect=3)
    assert "not the CEO, a trustee or a delegate for instagram-main" in one_line_error(result)


def test_the_second_closed_review_shows_what_changed(started: Shell) -> None:
    sh, q = started, quarter(started)
    for item, who in ((1, "spatel"), (2, "vperkins"), (3, "spatel"), (4, "vperkins")):
        sh.run(f"review decide {q} {item} {'revoke' if item == 1 else 'keep'} {sh.as_(who)}")
    sh.run(f"review close {q} {sh.as_('vperkins')}")
    sh.run(f"grant add jdoe instagram-main --role admin --reason Promoted {sh.as_('vperkins')}")
    sh.run(f"grant revoke G-0004 --reason Moved {sh.as_('spatel')}")
    sh.run(f"grant add amiller instagram-main --role analyst --reason Stats "
           f"{sh.as_('vperkins')}", expect=2)  # a request is pending: decline it first
    sh.run(f"grant decline G-0006 {sh.as_('vperkins')}")
    sh.run(f"grant add amiller instagram-main --role analyst --reason Stats "
           f"{sh.as_('vperkins')}")
    sh.clock.advance(92 * 24 * 3600)
    sh.run(f"review start {sh.as_('spatel')}")
    later = quarter(sh)
    pack = validate_output("review-export", sh.run(f"review export {later} --format json")
                           .stdout)
    changes = pack["changes"]  # type: ignore[index]
    assert changes["previous"] == q
    assert [(c["person"], c["account"], c["role"]) for c in changes["added"]] == [
        ("amiller", "instagram-main", "analyst")]
    assert [(c["person"], c["account"]) for c in changes["removed"]] == [("jdoe", "x-main")]
    # Each removal says why, for a Board that was not there (issue 16, item 6).
    assert changes["removed"][0]["why"].startswith("revoked on ")
    assert changes["removed"][0]["why"].endswith(" by spatel: Moved")
    assert [(c["person"], c["role_before"], c["role_after"]) for c in changes["role_changed"]] \
        == [("jdoe", "editor", "admin")]


# -- tampering ----------------------------------------------------------------------------

def test_a_decision_changed_behind_the_log_stops_the_close(started: Shell) -> None:
    sh, q = started, quarter(started)
    for item, who in ((1, "spatel"), (2, "vperkins"), (3, "spatel"), (4, "vperkins")):
        sh.run(f"review decide {q} {item} {'revoke' if item == 4 else 'keep'} {sh.as_(who)}")
    behind_the_log(sh.db, "UPDATE review_decisions SET decision = 'keep' WHERE item = 4")
    result = sh.run(f"review close {q} {sh.as_('vperkins')}", expect=3)
    assert "changed outside accessgov" in one_line_error(result)


def test_an_older_copy_of_the_review_put_back_is_refused(started: Shell) -> None:
    sh, q = started, quarter(started)
    (old,) = read_dicts(sh.db, "SELECT * FROM review_campaigns")
    sh.run(f"review decide {q} 1 keep {sh.as_('spatel')}")
    columns = ", ".join(f"{name} = ?" for name in old)
    behind_the_log(sh.db, f"UPDATE review_campaigns SET {columns} WHERE id = ?",
                   params=(*old.values(), old["id"]))
    result = sh.run(f"review decide {q} 3 keep {sh.as_('spatel')}", expect=3)
    assert "older copy" in one_line_error(result)


# -- bad input ------------------------------------------------------------------------------

Q = "{q}"
CASES = [
    ("review show 2031-Q1", 2, "there is no access review 2031-Q1"),
    ("review show 2031-Q5", 2, "written like 2026-Q4"),
    ("review decide 2031-Q1 1 keep {spatel}", 2, "there is no access review 2031-Q1"),
    ("review decide {q} 99 keep {spatel}", 2, "has no item 99 (items 1 to 4)"),
    ("review decide {q} 1 maybe {spatel}", 2, "Invalid value"),
    ("review decide {q} 0 keep {spatel}", 2, "Invalid value"),
    ("review decide {q} 1 keep --account x-main {spatel}", 2, "give the item number"),
    ("review decide {q} --all-keep --account nowhere {spatel}", 2, "no account 'nowhere'"),
    ("review decide {q} 1 keep --note '' {spatel}", 2, "note cannot be empty"),
    ("review decide {q} 2 keep {spatel}", 3,
     "spatel cannot decide on their own access in a review"),
    ("review decide {q} 3 keep --as jdoe --otp 123456", 3,
     "jdoe is not the CEO, a trustee or a delegate for x-main"),
    ("review close {q} {vperkins}", 2, "4 of the 4 items of {q} are not decided yet"),
    ("review start --quarter 2031-Q1 {vperkins}", 2, "access review is still open"),
    ("review start --quarter {q} {vperkins}", 2, "already exists (open)"),
    ("review close {q} --as jdoe --otp 123456", 2, "are not decided yet"),
    ("review export {q} -o {tmp}/nowhere/pack.html", 2, "does not exist"),
    ("review export 2031-Q1", 2, "there is no access review 2031-Q1"),
]


def fill(sh: Shell, command: str, tmp: str) -> str:
    for person in ("vperkins", "spatel"):
        if f"{{{person}}}" in command:
            command = command.replace(f"{{{person}}}", sh.as_(person))
    return command.replace("{q}", quarter(sh)).replace("{tmp}", tmp)


@pytest.mark.parametrize(("command", "exit_code", "text"), CASES,
                         ids=[case[0][:60] for case in CASES])
def test_bad_input_is_one_line_and_changes_nothing(started: Shell, tmp_path: Any,
                                                   command: str, exit_code: int,
                                                   text: str) -> None:
    before = dump(started.db)
    result = started.run(fill(started, command, str(tmp_path)), expect=exit_code)
    assert fill(started, text, str(tmp_path)) in one_line_error(result)
    after = dump(started.db)
    if exit_code == 3:  # a refused attempt is itself recorded, and nothing else
        assert after["audit"][:-1] == before["audit"]
        assert after["audit"][-1][3] == "refused"
        after["audit"] = before["audit"]
    after.pop("mfa"), before.pop("mfa")  # the codes typed were used up, as any code is
    assert after == before


def test_deciding_twice_and_changing_a_closed_review(started: Shell) -> None:
    sh, q = started, quarter(started)
    sh.run(f"review decide {q} 1 keep {sh.as_('spatel')}")
    before = dump(sh.db)
    result = sh.run(f"review decide {q} 1 revoke {sh.as_('vperkins')}", expect=2)
    assert "item 1 of" in one_line_error(result) and "already decided (keep, by spatel" \
        in result.stderr
    after = dump(sh.db)
    after.pop("mfa"), before.pop("mfa")
    assert after == before
    for item, who in ((2, "vperkins"), (3, "spatel"), (4, "vperkins")):
        sh.run(f"review decide {q} {item} keep {sh.as_(who)}")
    sh.run(f"review close {q} {sh.as_('spatel')}")
    for command in (f"review close {q}", f"review decide {q} 1 revoke"):
        result = sh.run(f"{command} {sh.as_('vperkins')}", expect=2)
        assert "it can no longer change" in one_line_error(result)


def test_a_review_needs_the_board_and_a_due_date_ahead(granted: Shell) -> None:
    before = dump(granted.db)
    result = granted.run("review start --due 2001-01-01 --as vperkins --otp 123456", expect=2)
    assert "--due 2001-01-01 is in the past" in one_line_error(result)
    assert dump(granted.db) == before
    granted.enrol("jdoe", by="vperkins")
    result = granted.run(f"review start {granted.as_('jdoe')}", expect=3)
    assert "only the CEO or a trustee can start an access review" in one_line_error(result)


def test_an_empty_review_can_be_closed_at_once(org: Shell) -> None:
    org.run(f"review start --quarter 2026-Q1 --due 2099-01-01 {org.as_('vperkins')}")
    assert show(org)["items"] == []
    result = org.run(f"review close 2026-Q1 {org.as_('spatel')}")
    assert "0 items, 0 revoked" in result.stdout
    listed = validate_output("review-list", org.run("review list --format json").stdout)
    assert [c["status"] for c in listed] == ["closed"]  # type: ignore[index]


def test_grants_changed_during_the_review_are_in_the_boards_pack(started: Shell) -> None:
    """Issue 15: a grant made, or revoked and given again, after `review start` never
    appeared in the pack, which said "4 items" as though nothing else had happened."""
    sh, q = started, quarter(started)
    quiet = validate_output("review-export", sh.run(f"review export {q} --format json").stdout)
    assert quiet["during_review"] == []
    assert "No grant was given, revoked or ran out while the review ran." in sh.run(
        f"review export {q} --format md").stdout
    sh.clock.advance(60)
    sh.run(f"grant approve G-0006 {sh.as_('spatel')}")
    sh.run(f"grant revoke G-0004 --reason Moved {sh.as_('spatel')}")
    sh.run(f"grant add jdoe x-main --role admin --reason Promoted {sh.as_('vperkins')}")
    pack = validate_output("review-export", sh.run(f"review export {q} --format json").stdout)
    assert [(c["change"], c["grant_id"], c["decided_by"]) for c in pack["during_review"]] == [
        ("approved", "G-0006", "spatel"), ("revoked", "G-0004", "spatel"),
        ("approved", "G-0007", "vperkins")]
    assert "G-0007" not in {item["grant_id"] for item in pack["items"]}
    markdown = sh.run(f"review export {q} --format md").stdout
    during = markdown.split("## Grants changed during the review", 1)[1].split("## ", 1)[0]
    assert "G-0006" in during and "G-0007" in during and "Moved" in during
    html = sh.run(f"review export {q} --format html").stdout
    assert "Grants changed during the review" in html and "G-0007" in html


def test_all_keep_without_an_account_keeps_every_item_one_may_decide(started: Shell) -> None:
    """Issue 16: 17 items took 9 commands, one --all-keep per account."""
    sh, q = started, quarter(started)
    result = sh.run(f"review decide {q} --all-keep {sh.as_('vperkins')}")
    assert f"Decided 3 items (1, 2, 4) of {q}: keep." in result.stdout
    assert "3" in result.stdout.split("keep.", 1)[1]  # her own grant, item 3, is left
    decided = {i["item"]: i["decided_by"] for i in show(sh)["items"]}
    assert decided == {1: "vperkins", 2: "vperkins", 3: None, 4: "vperkins"}
    assert len([e for e in events(sh, "review.decide")]) == 3  # one decision each
