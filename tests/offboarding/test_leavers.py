"""Leavers are locked out of everything until an approver reinstates them; reinstated, they
come back with no access and no MFA."""

from __future__ import annotations

import pytest

from tests.offboarding.conftest import show
from tests.support.behind import events
from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error


@pytest.fixture
def gone(leaver: Shell) -> Shell:
    """jdoe has left (offboarded by the CEO); spatel, a trustee, has left too."""
    leaver.run(f"offboard start jdoe {leaver.as_('vperkins')}")
    leaver.run(f"grant request spatel x-main --role editor --reason 'Board posts' "
               f"{leaver.as_('vperkins')}")  # G-0004, pending
    leaver.run(f"person add bkhan --name 'Bo Khan' --email b@example.org --category employee "
               f"{leaver.as_('vperkins')}")
    leaver.run(f"grant add bkhan instagram-main --role editor --reason Posts "
               f"{leaver.as_('vperkins')}")  # G-0005, active
    leaver.run(f"grant request bkhan x-main --role editor --reason Cover "
               f"{leaver.as_('vperkins')}")  # G-0006, pending, for someone still here
    leaver.run(f"offboard start spatel --board-minute 'BM 2026/12' {leaver.as_('vperkins')}")
    return leaver


@pytest.mark.parametrize("command", [
    "cred reveal tiktok-main",
    "otp tiktok-main",
    "grant approve G-0006",
    "grant decline G-0006",
    "grant add bkhan tiktok-main --role member --reason x",
    "grant revoke G-0005 --reason x",
    "offboard done jdoe 1",
    "login",
])
@pytest.mark.parametrize("who", ["jdoe", "spatel"])
def test_a_leaver_can_no_longer_act(gone: Shell, who: str, command: str) -> None:
    before = dump(gone.db)
    result = gone.run(f"{command} {gone.as_(who)}", expect=3)
    assert f"{who} has left and can no longer act in the register" in one_line_error(result)
    assert result.stdout == ""  # no secret, no code
    after = dump(gone.db)
    assert {k: v for k, v in after.items() if k != "audit"} == \
        {k: v for k, v in before.items() if k != "audit"}
    assert events(gone, "refused")[-1]["actor"] == who


@pytest.mark.parametrize(("command", "message"), [
    ("grant add jdoe instagram-main --role editor --reason back",
     "jdoe has left; access cannot be granted to them"),
    ("grant request jdoe instagram-main --role editor --reason back",
     "jdoe has left; access cannot be granted to them"),
    ("grant approve G-0004", "G-0004 is revoked, not pending"),
    ("delegate add jdoe --all", "jdoe has left and cannot be given a delegation"),
    ("mfa enrol jdoe", "jdoe has left; there is no need for their MFA"),
    ("account update x-main --owner jdoe", "the owner 'jdoe' has left"),
])
def test_nobody_gives_a_leaver_access(gone: Shell, command: str, message: str) -> None:
    before = dump(gone.db)
    result = gone.run(f"{command} --as vperkins --otp {gone.code('vperkins')}", expect=2)
    assert message in one_line_error(result)
    assert dump(gone.db) == before


def test_a_leavers_pending_request_was_withdrawn(gone: Shell) -> None:
    grant = validate_output("grant-show", gone.run("grant show G-0004 --format json").stdout)
    assert grant["status"] == "revoked" and grant["decision"] is None  # type: ignore[index]
    assert "left the organisation (offboarding O-0002)" in grant["revoke_reason"]  # type: ignore[index]


def test_reinstating_brings_them_back_with_nothing(gone: Shell) -> None:
    sh = gone
    before = dump(sh.db)
    result = sh.run(f"person reinstate jdoe --as spatel --otp {sh.code('spatel')}", expect=3)
    assert "spatel has left" in one_line_error(result)
    result = sh.run("person reinstate bkhan --as vperkins --otp 000000", expect=2)
    assert "bkhan has not left and is not being offboarded" in one_line_error(result)
    assert {k: v for k, v in dump(sh.db).items() if k != "audit"} == \
        {k: v for k, v in before.items() if k != "audit"}

    result = sh.run(f"person reinstate jdoe {sh.as_('vperkins')}")
    assert "Reinstated jdoe. They have no access and no MFA" in result.stdout
    assert "7 item(s) of O-0001 were still open" in result.stdout
    person = validate_output("person-show", sh.run("person show jdoe --format json").stdout)
    assert (person["status"], person["leave_date"], person["mfa"]["status"],  # type: ignore[index]
            person["grants"]) == ("active", None, "none", [])  # type: ignore[index]
    case = show(sh)
    assert (case["status"], case["closed_by"], case["items_open"]) == ("reinstated", "vperkins",
                                                                      7)
    (event,) = events(sh, "person.reinstate")
    assert event["details"]["case"] == "O-0001" and event["details"]["open_items"] == 7
    # Reinstated items no longer tick themselves, and the case is not open any more.
    sh.run(f"cred rotate tiktok-main --stdin {sh.as_('vperkins')}", input="Pass-After-1\n")
    assert show(sh)["items"][2]["status"] == "open"

    # They are invited to enrol again, and given access through the usual approval.
    sh.run("logout")
    sh.enrol("jdoe", by="vperkins")
    sh.run(f"grant add jdoe instagram-main --role editor --reason back {sh.as_('vperkins')}")
    # Offboarding them again is a new case.
    sh.run(f"offboard start jdoe {sh.as_('vperkins')}")
    assert show(sh)["case"] == "O-0003"
    assert sh.run("audit verify").exit_code == 0


def test_a_trustee_comes_back_by_a_board_minute(gone: Shell) -> None:
    result = gone.run(f"person reinstate spatel {gone.as_('vperkins')}", expect=3)
    assert "--board-minute" in one_line_error(result)
    gone.run(f"person reinstate spatel --board-minute 'BM 2027/01' {gone.as_('vperkins')}")
    (event,) = events(gone, "person.reinstate")
    assert event["details"]["board_minute"] == "BM 2027/01"


def test_reinstating_before_the_leave_date_cancels_the_offboarding(leaver: Shell) -> None:
    sh = leaver
    sh.run(f"offboard start jdoe --leave-date 2099-06-30 {sh.as_('spatel')}")
    result = sh.run(f"person reinstate jdoe {sh.as_('vperkins')}")
    assert "Cancelled jdoe's scheduled offboarding (O-0001)" in result.stdout
    case = show(sh)
    assert (case["status"], case["carried_out_at"]) == ("cancelled", None)
    assert [e["subject"] for e in events(sh, "offboard.cancel")] == ["O-0001"]
    assert events(sh, "person.reinstate") == []
    # Nobody cancels their own offboarding.
    sh.run(f"offboard start spatel --leave-date 2099-06-30 --board-minute BM1 "
           f"{sh.as_('vperkins')}")
    result = sh.run(f"person reinstate spatel {sh.as_('spatel')}", expect=3)
    assert "spatel cannot do this for themselves" in one_line_error(result)
    assert sh.run("audit verify").exit_code == 0
