"""One proxy rule everywhere: nobody acts for whoever put them in place.

Tried as an insider would (issue 15, item 2): a trustee adds a sock-puppet trustee with a
board minute of her own invention, and the sock then keeps her access in a review, closes the
review, approves her requests, or cancels her offboarding. Each is refused, the register
unchanged apart from the refusal on record, and records of the kind made before the rule are
named by `check`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_attacks import refused
from tests.governance.helpers import check, found, message
from tests.support.behind import as_an_older_accessgov, events
from tests.support.shell import Shell


@pytest.fixture
def sock(org: Shell) -> Shell:
    """spatel (a trustee) added `sock`, a trustee of her own making, with MFA; spatel holds
    admin on instagram-main, granted by the CEO."""
    org.run(f'person add sock --name "S Ock" --email sock@example.org --category trustee '
            f'--board-minute "made up" {org.as_("spatel")}')
    org.enrol("sock", by="spatel")
    org.run(f"grant add spatel instagram-main --role admin --reason Board {org.as_('vperkins')}")
    return org


def test_a_sock_approves_nothing_for_its_maker(sock: Shell) -> None:
    sock.run(f"grant request spatel instagram-main --role editor --reason more "
             f"{sock.as_('spatel')}", expect=2)  # she holds a grant already
    sock.run(f"account add x-main --platform x --handle @i --owner vperkins --purpose p "
             f"{sock.as_('spatel')}")
    sock.run(f"grant request spatel x-main --role editor --reason posts {sock.as_('spatel')}")
    line = refused(sock, f"grant approve G-0002 {sock.as_('sock')}")
    assert "sock was put in place by spatel (spatel added sock to the register)" in line
    sock.run(f"grant approve G-0002 {sock.as_('vperkins')}")  # someone independent may
    sock.run(f"account add fb-main --platform facebook --handle @i --owner vperkins "
             f"--purpose p {sock.as_('spatel')}")
    line = refused(sock, f"grant add spatel fb-main --role admin --reason x {sock.as_('sock')}")
    assert "sock was put in place by spatel" in line


def test_a_sock_keeps_nothing_of_its_maker_in_a_review_nor_closes_it(sock: Shell) -> None:
    sock.run(f"review start {sock.as_('vperkins')}")
    quarter = json.loads(sock.run("review list --format json").stdout)[0]["id"]
    line = refused(sock, f"review decide {quarter} 1 keep {sock.as_('sock')}")
    assert "sock was put in place by spatel" in line
    result = sock.run(f"review decide {quarter} --all-keep --account instagram-main "
                      f"{sock.as_('sock')}", expect=3)
    assert "spatel added sock to the register" in result.stderr
    sock.run(f"review decide {quarter} 1 keep {sock.as_('vperkins')}")
    line = refused(sock, f"review close {quarter} {sock.as_('sock')}")
    assert "sock was put in place by spatel" in line
    sock.run(f"review close {quarter} {sock.as_('vperkins')}")


def test_a_sock_neither_offboards_nor_reinstates_its_maker(sock: Shell) -> None:
    line = refused(sock, f"offboard start spatel --leave-date 2099-01-01 --board-minute BM "
                         f"{sock.as_('sock')}")
    assert "sock was put in place by spatel" in line
    sock.run(f"offboard start spatel --leave-date 2099-01-01 --board-minute 'BM 2026/12' "
             f"{sock.as_('vperkins')}")
    line = refused(sock, f"person reinstate spatel --board-minute x {sock.as_('sock')}")
    assert "sock was put in place by spatel" in line


def test_undoing_an_offboarding_decided_by_a_board_minute_needs_one(org: Shell) -> None:
    org.run(f"offboard start jdoe --leave-date 2099-01-01 --board-minute 'BM 2026/12 item 3' "
            f"{org.as_('vperkins')}")
    line = refused(org, f"person reinstate jdoe {org.as_('spatel')}")
    assert "undoing an offboarding decided by board minute 'BM 2026/12 item 3' needs the " \
           "board minute" in line
    org.run(f"person reinstate jdoe --board-minute 'BM 2027/01' {org.as_('spatel')}")


def test_a_ceos_delegations_lapse_when_she_leaves(org: Shell) -> None:
    org.run(f'person add bkhan --name "Bo Khan" --email b@example.org --category employee '
            f'{org.as_("spatel")}')
    org.enrol("bkhan", by="spatel")
    org.run(f"delegate add bkhan --all {org.as_('vperkins')}")
    org.run(f"offboard start vperkins --board-minute 'BM 2026/12 item 1' {org.as_('spatel')}")
    (revoked,) = [e for e in events(org, "delegation.revoke") if e["subject"] == "D-0001"]
    assert "given by vperkins, who left the organisation" in revoked["details"]["reason"]
    items = json.loads(org.run("offboard show vperkins --format json").stdout)["items"]
    assert any(item["kind"] == "delegation" and item["delegation"] == "D-0001"
               and "that Vickie Perkins (vperkins) gave to bkhan" in item["action"]
               for item in items)
    line = refused(org, f"grant add jdoe instagram-main --role editor --reason x "
                        f"{org.as_('bkhan')}")
    assert "bkhan is not the CEO, a trustee or a delegate" in line


def test_a_delegation_from_a_ceo_who_left_before_the_rule_is_named_and_gives_nothing(
        org: Shell) -> None:
    org.run(f'person add bkhan --name "Bo Khan" --email b@example.org --category employee '
            f'{org.as_("spatel")}')
    org.enrol("bkhan", by="spatel")
    org.run(f"delegate add bkhan --all {org.as_('vperkins')}")

    def left_without_revoking(op):  # type: ignore[no-untyped-def]
        op.register.update("people", {"id": "vperkins"},
                           {"status": "left", "leave_date": op.today})
        op.record("person.leave", "vperkins", note="as accessgov did before the rule")

    as_an_older_accessgov(org, left_without_revoking, operator="spatel")
    data = check(org)
    assert found(data, "ACC-006") == {"D-0001"}
    assert "Vickie Perkins (vperkins), who gave it, left" in message(data, "ACC-006", "D-0001")
    line = refused(org, f"grant add jdoe instagram-main --role editor --reason x "
                        f"{org.as_('bkhan')}")
    assert "bkhan is not the CEO, a trustee or a delegate" in line


@pytest.mark.parametrize("reserved", ["setup", "accessgov", "unknown"])
def test_the_logs_own_actor_names_are_nobodys_id(org: Shell, reserved: str) -> None:
    result = org.run(f"person add {reserved} --name X --email x@example.org --category "
                     f"employee {org.as_('vperkins')}", expect=2)
    assert "cannot be a person's id" in result.stderr


def test_a_sock_imports_no_grant_for_its_maker_credited_to_the_ceo(sock: Shell,
                                                                    tmp_path: Path) -> None:
    """Issue 15, item 1: the sock imports a grant for spatel 'approved by the CEO'. The
    importer approves what it imports, and the sock may not approve for its maker."""
    sock.run(f"account add x-main --platform x --handle @i --owner vperkins --purpose p "
             f"{sock.as_('spatel')}")
    path = tmp_path / "grants.csv"
    path.write_text("person,account,role,reason,decided_by,authority,decided_at\n"
                    "spatel,x-main,admin,Board,vperkins,ceo,2025-03-01\n", encoding="utf-8")
    before = sock.run("grant list --format json").stdout
    result = sock.run(f"import {path} --kind grants --format json {sock.as_('sock')}", expect=3)
    problems = json.loads(result.stdout)["problems"]
    assert [(p["row"], p["column"]) for p in problems] == [(2, "person")]
    assert "sock was put in place by spatel (spatel added sock to the register)" in \
        problems[0]["reason"]
    assert sock.run("grant list --format json").stdout == before
    # The dry run says the same, without a code.
    dry = sock.run(f"import {path} --kind grants --dry-run --format json --as sock", expect=3)
    assert json.loads(dry.stdout)["problems"] == problems
    # Someone independent may import it: then it is theirs, and the CEO is only named.
    sock.run(f"import {path} --kind grants {sock.as_('vperkins')}")
    grant = json.loads(sock.run("grant show G-0002 --format json").stdout)
    assert (grant["decided_by"], grant["approval_note"]) == (
        "vperkins", "recorded as approved by vperkins on 2025-03-01 (imported by vperkins)")


def test_a_sock_imported_as_a_trustee_imports_nothing_for_its_maker(org: Shell,
                                                                     tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("id,name,email,category\nsock,S Ock,sock@example.org,trustee\n",
                      encoding="utf-8")
    org.run(f"import {people} --kind people --board-minute anything {org.as_('spatel')}")
    org.enrol("sock", by="spatel")
    org.run(f"account add x-main --platform x --handle @i --owner vperkins --purpose p "
            f"{org.as_('spatel')}")
    grants = tmp_path / "grants.csv"
    grants.write_text("person,account,role,reason,decided_by,authority,decided_at\n"
                      "spatel,x-main,admin,Board,vperkins,ceo,2025-03-01\n", encoding="utf-8")
    result = org.run(f"import {grants} --kind grants --format json {org.as_('sock')}",
                     expect=3)
    assert "spatel imported sock into the register" in \
        json.loads(result.stdout)["problems"][0]["reason"]
    assert json.loads(org.run("grant list --format json").stdout) == []


def test_a_sock_ticks_no_platform_removal_of_its_maker(sock: Shell) -> None:
    """Ticking a removal says the person is off the platform: a sock would hide that its
    maker is still on the Page, on the to-do list or on her offboarding checklist."""
    sock.run(f"account add x-main --platform x --handle @i --owner vperkins --purpose p "
             f"{sock.as_('spatel')}")
    sock.run(f"grant add spatel x-main --role editor --reason Posts {sock.as_('vperkins')}")
    sock.run(f"grant revoke G-0002 --reason 'Board term over' {sock.as_('vperkins')}")
    line = refused(sock, f"todo done G-0002 {sock.as_('sock')}")
    assert "sock was put in place by spatel" in line
    sock.run(f"offboard start spatel --board-minute 'BM 2026/12' {sock.as_('vperkins')}")
    line = refused(sock, f"offboard done spatel 1 --note done {sock.as_('sock')}")
    assert "sock was put in place by spatel" in line
    sock.run(f"offboard done spatel 1 --note done {sock.as_('vperkins')}")  # independent
