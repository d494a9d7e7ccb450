"""offboard start: the leaver is marked left, their access ends in the register, and the
checklist names exactly what is left to do, and no more."""

from __future__ import annotations

from tests.offboarding.conftest import show
from tests.support.behind import events, read_rows
from tests.support.shell import Shell, dump, one_line_error


def _row(sh: Shell, sql: str) -> tuple[object, ...]:
    found = read_rows(sh.db, sql)
    return tuple(found[0]) if found else ()


def test_start_ends_access_and_lists_exactly_what_is_left(leaver: Shell,
                                                         store: dict[str, object]) -> None:
    assert "interact/mfa/jdoe" in store
    result = leaver.run(f"offboard start jdoe --reason 'Moved to another charity' "
                        f"{leaver.as_('vperkins')}")
    assert "O-0001: jdoe has left" in result.stdout
    assert "  1. [ ] Stop Jo Doe (jdoe) using the shared login of tiktok-main" in result.stdout

    case = show(leaver)
    assert (case["case"], case["status"], case["authority"]) == ("O-0001", "open", "ceo")
    items = [(i["item"], i["kind"], i["account"], i["credential_kind"] or i["field"]
              or i["grant"] or i["delegation"], i["status"]) for i in case["items"]]
    assert items == [
        (1, "remove-access", "tiktok-main", "G-0001", "open"),
        (2, "remove-access", "instagram-main", "G-0002", "open"),
        (3, "rotate", "tiktok-main", "password", "open"),
        (4, "reseed", "tiktok-main", "totp-seed", "open"),
        (5, "hand-over", "whatsapp-youth", "overseer", "open"),
        (6, "reassign", "linkedin-main", "owner", "open"),
        (7, "reassign", "whatsapp-youth", "recovery_email", "open"),
        (8, "delegation", None, "D-0001", "done"),
        (9, "mfa", None, None, "done"),
    ]
    # The recovery codes were rotated after jdoe saw them: not on the list.
    assert not [i for i in case["items"] if i["credential_kind"] == "recovery-codes"]
    # The platform's own steps, naming the person, the handle and the role.
    instagram = case["items"][1]
    assert "Partial access: Content (editor)" in instagram["action"]
    assert any("Jo Doe (jdoe)" in step and "@interact" in step for step in instagram["steps"])
    assert "version 1" in case["items"][2]["action"]
    assert "reveal" in case["items"][2]["action"] and "otp" in case["items"][3]["action"]

    assert _row(leaver, "SELECT status, leave_date IS NOT NULL FROM people WHERE id = 'jdoe'") \
        == ("left", 1)
    grants = dict(read_rows(leaver.db, "SELECT id, status || ':' || revoked_by FROM grants"))
    assert grants == {"G-0001": "revoked:vperkins", "G-0002": "revoked:vperkins",
                      "G-0003": "revoked:vperkins"}  # the pending request is withdrawn
    assert _row(leaver, "SELECT revoked_by FROM delegations WHERE id = 'D-0001'") == \
        ("vperkins",)
    assert _row(leaver, "SELECT * FROM mfa WHERE person = 'jdoe'") == ()
    assert _row(leaver, "SELECT COUNT(*) FROM sessions WHERE person = 'jdoe' "
                        "AND ended_at IS NULL") == (0,)
    assert "interact/mfa/jdoe" not in store  # the seed left the store after the commit

    revoked = events(leaver, "grant.revoke")
    assert {(e["subject"], e["details"]["was"]) for e in revoked} == {
        ("G-0001", "active"), ("G-0002", "active"), ("G-0003", "pending")}
    (leave,) = events(leaver, "person.leave")
    assert leave["subject"] == "jdoe" and leave["details"]["items_open"] == 7
    assert leaver.run("audit verify").exit_code == 0


def test_the_checklist_is_exported_as_evidence(leaver: Shell) -> None:
    leaver.run(f"offboard start jdoe {leaver.as_('vperkins')}")
    case = show(leaver)
    # show --format csv and the table carry the same items.
    table = leaver.run("offboard show jdoe").stdout
    assert "  9. [x] Remove Jo Doe (jdoe)'s own MFA seed" in table
    csv = leaver.run("offboard show jdoe --format csv").stdout.splitlines()
    assert csv[0].startswith("case,person,item,status,kind") and len(csv) >= 10
    assert len(case["items"]) == 9


def test_a_person_with_nothing_is_closed_at_once(org: Shell) -> None:
    org.run(f"person add amiller --name 'Al Miller' --email a@example.org --category volunteer "
            f"{org.as_('vperkins')}")
    result = org.run(f"offboard start amiller {org.as_('spatel')}")
    assert "0 of 1 checklist items are still to do" in result.stdout
    case = show(org, "amiller")
    assert case["status"] == "closed" and case["closed_by"] == "spatel"
    assert case["items"][0]["note"] == "no MFA was enrolled; sessions ended"
    assert [e["subject"] for e in events(org, "offboard.close")] == ["O-0001"]


def test_starting_twice_is_refused_and_changes_nothing(leaver: Shell) -> None:
    leaver.run(f"offboard start jdoe {leaver.as_('vperkins')}")
    before = dump(leaver.db)
    result = leaver.run(f"offboard start jdoe --as vperkins --otp {leaver.code('vperkins')}",
                        expect=2)
    assert "jdoe is already being offboarded (O-0001, open)" in one_line_error(result)
    assert dump(leaver.db) == before


def test_nobody_offboards_themselves_and_only_the_board_offboards(leaver: Shell) -> None:
    result = leaver.run(f"offboard start vperkins {leaver.as_('vperkins')}", expect=3)
    assert "vperkins cannot do this for themselves" in one_line_error(result)
    leaver.run(f"person add bkhan --name 'Bo Khan' --email b@example.org --category employee "
               f"{leaver.as_('vperkins')}")
    leaver.run("logout")  # jdoe's session: bkhan enrols where nobody else is logged in
    leaver.enrol("bkhan", by="vperkins")
    before = dump(leaver.db)
    result = leaver.run(f"offboard start jdoe {leaver.as_('bkhan')}", expect=3)
    assert "only the CEO or a trustee can start offboarding" in one_line_error(result)
    after = dump(leaver.db)
    assert {k: v for k, v in after.items() if k != "audit"} == \
        {k: v for k, v in before.items() if k != "audit"}
    assert events(leaver, "refused")[-1]["details"]["attempted"] == "offboard.start"


def test_offboarding_a_trustee_needs_a_board_minute(leaver: Shell) -> None:
    result = leaver.run(f"offboard start spatel {leaver.as_('vperkins')}", expect=3)
    assert "--board-minute" in one_line_error(result)
    leaver.run(f"offboard start spatel --board-minute 'BM 2026/12 item 3' "
               f"{leaver.as_('vperkins')}")
    assert show(leaver, "spatel")["board_minute"] == "BM 2026/12 item 3"


def test_bad_input_is_one_line_and_changes_nothing(leaver: Shell) -> None:
    before = dump(leaver.db)
    for command, message in [
        ("offboard start nobody", "there is no person 'nobody'"),
        ("offboard start jdoe --leave-date 31/12/2026", "--leave-date must be a date"),
        ("offboard start jdoe --reason ' '", "reason cannot be empty"),
    ]:
        result = leaver.run(f"{command} --as vperkins --otp 000000", expect=2)
        assert message in one_line_error(result), result.stderr
    assert dump(leaver.db) == before
    for command in ("offboard show nobody", "offboard done jdoe 1", "offboard export jdoe "
                    "--format md", "person reinstate jdoe --as vperkins --otp 000000"):
        result = leaver.run(command, expect=2)
        one_line_error(result)
    assert dump(leaver.db) == before


def test_a_leave_date_ahead_is_carried_out_by_the_first_change_that_day(leaver: Shell) -> None:
    tomorrow = (leaver.clock.now.date().toordinal() + 1)
    day = type(leaver.clock.now.date()).fromordinal(tomorrow).isoformat()
    result = leaver.run(f"offboard start jdoe --leave-date {day} {leaver.as_('vperkins')}")
    assert f"scheduled for {day}" in result.stdout
    case = show(leaver)
    assert (case["status"], case["items"], case["carried_out_at"]) == ("scheduled", [], None)
    assert _row(leaver, "SELECT status FROM people WHERE id = 'jdoe'") == ("active",)
    # Until the day, jdoe still acts; access given meanwhile is on the list when it comes.
    leaver.run(f"grant add jdoe x-main --role editor --reason Cover {leaver.as_('vperkins')}",
               expect=2)  # (G-0003 is pending: the request is approved instead)
    leaver.run(f"grant approve G-0003 {leaver.as_('spatel')}")
    leaver.clock.advance(24 * 3600)
    leaver.run(f"person add newbie --name New --email n@example.org --category volunteer "
               f"{leaver.as_('spatel')}")
    case = show(leaver)
    assert case["status"] == "open" and case["carried_out_at"] is not None
    assert [i["grant"] for i in case["items"] if i["kind"] == "remove-access"] == [
        "G-0001", "G-0002", "G-0003"]
    (leave,) = events(leaver, "person.leave")
    assert leave["actor"] == "accessgov" and leave["details"]["case"] == "O-0001"
    assert _row(leaver, "SELECT status FROM people WHERE id = 'jdoe'") == ("left",)
    assert leaver.run("audit verify").exit_code == 0


def test_the_leaver_is_refused_on_the_day_even_before_anyone_else_acts(leaver: Shell) -> None:
    day = type(leaver.clock.now.date()).fromordinal(
        leaver.clock.now.date().toordinal() + 1).isoformat()
    leaver.run(f"offboard start jdoe --leave-date {day} {leaver.as_('vperkins')}")
    leaver.clock.advance(24 * 3600)
    result = leaver.run(f"cred reveal tiktok-main {leaver.as_('jdoe')}", expect=3)
    assert "jdoe has left" in one_line_error(result)
    assert "Tt-first" not in result.stdout
    # The refused attempt is recorded; the offboarding itself is carried out by the next
    # change that goes through.
    assert events(leaver, "refused")[-1]["actor"] == "jdoe"
    leaver.run(f"account update x-main --purpose 'News and events' {leaver.as_('vperkins')}")
    assert show(leaver)["status"] == "open"


def test_a_grant_that_expired_before_the_leave_is_still_on_the_checklist(leaver: Shell) -> None:
    """Issue 16: a leaver's editor grant ended by expiry before the offboarding was carried
    out; the checklist closed at once and never said to remove him from the platform."""
    today = leaver.clock.now.date()
    leave_day = type(today).fromordinal(today.toordinal() + 2).isoformat()
    ends = type(today).fromordinal(today.toordinal() + 7).isoformat()
    leaver.run(f"account add facebook-page --platform facebook --handle InterAct --owner "
               f"vperkins --purpose News {leaver.as_('spatel')}")
    leaver.run(f"grant add jdoe facebook-page --role editor --reason Events --expires {ends} "
               f"{leaver.as_('vperkins')}")
    leaver.run(f"offboard start jdoe --leave-date {leave_day} {leaver.as_('vperkins')}")
    leaver.clock.advance(40 * 24 * 3600)  # nobody changes anything until well after both
    leaver.run(f"person add newbie --name New --email n@example.org --category volunteer "
               f"{leaver.as_('spatel')}")
    case = show(leaver)
    removals = {i["account"]: i for i in case["items"] if i["kind"] == "remove-access"}
    assert "facebook-page" in removals, case["items"]
    assert removals["facebook-page"]["status"] == "open"
    assert "expired" in removals["facebook-page"]["action"]
    assert case["status"] == "open"
