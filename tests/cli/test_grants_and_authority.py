"""Who may approve what: the CEO, the Board, and the CEO's delegates within scope."""

from __future__ import annotations

import json

import pytest

from tests.support.shell import Shell, one_line_error


def grant(sh: Shell, grant_id: str) -> dict:
    return json.loads(sh.run(f"grant show {grant_id} --format json").stdout)


@pytest.fixture
def staffed(org: Shell) -> Shell:
    """org plus a service manager with MFA and a second account."""
    org.run(f'person add amanager --name "Ash Manager" --email a@example.org --category employee '
            f'--title "Service Manager" {org.as_("vperkins")}')
    org.enrol("amanager", by="vperkins")
    org.run(f"account add fb-page --platform facebook --handle InterActUK --owner vperkins "
            f"--purpose Fundraising --mfa security-key {org.as_('spatel')}")
    return org


def test_a_trustee_approves_what_the_ceo_requested_with_a_board_minute(org: Shell) -> None:
    org.run(f"grant request jdoe instagram-main --role editor --reason 'Youth events' "
            f"{org.as_('vperkins')}")
    assert grant(org, "G-0001")["status"] == "pending"
    org.run(f"grant approve G-0001 --board-minute 'BM 2026/11 item 4' {org.as_('spatel')}")
    approved = grant(org, "G-0001")
    assert (approved["status"], approved["decided_by"], approved["authority"],
            approved["board_minute"], approved["mfa_verified"], approved["verified_by"]) == (
        "active", "spatel", "trustee", "BM 2026/11 item 4", True, "totp code")
    assert approved["requested_by"] == "vperkins"


def test_a_declined_request_records_the_decision(org: Shell) -> None:
    org.run(f"grant request jdoe instagram-main --role admin --reason x {org.as_('vperkins')}")
    org.run(f"grant decline G-0001 --reason 'editor is enough' {org.as_('spatel')}")
    declined = grant(org, "G-0001")
    assert (declined["status"], declined["decision"], declined["decided_by"]) == (
        "declined", "declined", "spatel")
    result = org.run(f"grant approve G-0001 {org.as_('spatel')}", expect=2)
    assert "only pending requests" in one_line_error(result)


def test_a_delegate_approves_within_scope_only(staffed: Shell) -> None:
    sh = staffed
    sh.run(f"delegate add amanager --account instagram-main {sh.as_('vperkins')}")
    sh.run(f"grant add jdoe instagram-main --role editor --reason x {sh.as_('amanager')}")
    assert grant(sh, "G-0001")["authority"] == "delegation:D-0001"
    result = sh.run(f"grant add jdoe fb-page --role editor --reason x {sh.as_('amanager')}",
                    expect=3)
    assert "amanager is not the CEO, a trustee or a delegate for fb-page" in one_line_error(result)


def test_a_delegate_cannot_delegate_and_a_trustee_can_revoke_delegations(staffed: Shell) -> None:
    sh = staffed
    sh.run(f"delegate add amanager --all {sh.as_('vperkins')}")
    result = sh.run(f"delegate add jdoe --all {sh.as_('amanager')}", expect=3)
    assert "only the CEO can give delegations" in one_line_error(result)
    sh.run(f"delegate revoke D-0001 --reason 'restructure' {sh.as_('spatel')}")
    result = sh.run(f"grant add jdoe fb-page --role editor --reason x {sh.as_('amanager')}",
                    expect=3)
    assert "is not the CEO, a trustee or a delegate" in one_line_error(result)
    listed = json.loads(sh.run("delegate list --all --format json").stdout)
    assert [(d["id"], d["in_force"], d["revoked_by"]) for d in listed] == [
        ("D-0001", False, "spatel")]


def test_a_delegation_with_an_end_date_lapses(staffed: Shell) -> None:
    sh = staffed
    until = sh.clock.now.date().isoformat()
    sh.run(f"delegate add amanager --all --until {until} {sh.as_('vperkins')}")
    sh.clock.advance(2 * 86400)
    result = sh.run(f"grant add jdoe fb-page --role editor --reason x {sh.as_('amanager')}",
                    expect=3)
    assert "is not the CEO, a trustee or a delegate" in one_line_error(result)


def test_a_delegate_cannot_approve_their_own_request(staffed: Shell) -> None:
    sh = staffed
    sh.run(f"delegate add amanager --all {sh.as_('vperkins')}")
    sh.run(f"grant request amanager fb-page --role admin --reason x {sh.as_('vperkins')}")
    result = sh.run(f"grant approve G-0001 {sh.as_('amanager')}", expect=3)
    assert "amanager cannot approve their own access" in one_line_error(result)


def test_one_live_grant_per_person_and_account(org: Shell) -> None:
    org.run(f"grant add jdoe instagram-main --role editor --reason x {org.as_('vperkins')}")
    result = org.run(f"grant add jdoe instagram-main --role admin --reason x "
                     f"{org.as_('vperkins')}", expect=2)
    assert "already has grant G-0001" in one_line_error(result)


def test_a_grant_past_its_end_date_expires(org: Shell) -> None:
    tomorrow = (org.clock.now.date().toordinal() + 1)
    import datetime as dt

    end = dt.date.fromordinal(tomorrow).isoformat()
    org.run(f"grant add jdoe instagram-main --role editor --reason x --expires {end} "
            f"{org.as_('vperkins')}")
    org.clock.advance(3 * 86400)
    assert grant(org, "G-0001")["status"] == "expired"  # read commands see it at once
    assert json.loads(org.run("grant list --status active --format json").stdout) == []
    org.run(f"person update jdoe --title 'Youth Lead' {org.as_('vperkins')}")
    events = json.loads(org.run("audit log --action grant.expire --format json").stdout)
    assert [(e["subject"], e["actor"]) for e in events] == [("G-0001", "accessgov")]
    result = org.run(f"grant revoke G-0001 --reason x {org.as_('vperkins')}", expect=2)
    assert "G-0001 is expired, not active" in one_line_error(result)


def test_an_account_with_live_grants_cannot_be_archived(org: Shell) -> None:
    org.run(f"grant add jdoe instagram-main --role editor --reason x {org.as_('vperkins')}")
    result = org.run(f"account archive instagram-main --reason old {org.as_('vperkins')}",
                     expect=2)
    assert "still has 1 active or pending grant" in one_line_error(result)
    org.run(f"grant revoke G-0001 --reason 'account closing' {org.as_('vperkins')}")
    org.run(f"account archive instagram-main --reason old {org.as_('vperkins')}")
    result = org.run(f"grant add jdoe instagram-main --role editor --reason x "
                     f"{org.as_('vperkins')}", expect=2)
    assert "instagram-main is archived" in one_line_error(result)


def test_grant_list_filters(org: Shell) -> None:
    org.run(f"grant add jdoe instagram-main --role editor --reason x {org.as_('vperkins')}")
    org.run(f"grant add spatel instagram-main --role analyst --reason x {org.as_('vperkins')}")
    org.run(f"grant revoke G-0002 --reason x {org.as_('vperkins')}")

    def ids(options: str) -> list[str]:
        return [g["id"] for g in json.loads(org.run(f"grant list {options} --format json").stdout)]

    assert ids("") == ["G-0001", "G-0002"]
    assert ids("--person jdoe") == ["G-0001"]
    assert ids("--status revoked") == ["G-0002"]
    assert ids("--account instagram-main --status active") == ["G-0001"]
    csv_text = org.run("grant list --format csv").stdout
    assert csv_text.splitlines()[0].startswith("id,person,person_name,account,platform,role")
    table = org.run("grant list").stdout
    assert "G-0001" in table and "decided by" in table


def test_updates_are_audited_with_before_and_after(org: Shell) -> None:
    org.run(f"person update jdoe --title 'Youth Lead' {org.as_('vperkins')}")
    (event,) = json.loads(org.run("audit log --action person.update --format json").stdout)
    assert event["details"]["before"] == {"title": "Young Adults Lead"}
    assert event["details"]["after"] == {"title": "Youth Lead"}
    org.run(f"account update instagram-main --mfa security-key {org.as_('vperkins')}")
    account = json.loads(org.run("account show instagram-main --format json").stdout)
    assert account["mfa_method"] == "security-key"
    assert account["mfa_verified_on"] == org.clock.now.date().isoformat()
