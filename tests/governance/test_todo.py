"""Expiry and revocation never lose a platform step (issue 16, item 1).

A grant ends in the register; the person is still on the Facebook Page until someone takes
them off. Every such grant stays on `accessgov todo`, with the platform's steps, until an
approver for the account ticks it; a leaver's grants are on their offboarding checklist.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tests.support.schemas import validate_output
from tests.support.shell import Shell, one_line_error

DAY = 24 * 3600


def todo(sh: Shell) -> list[dict[str, Any]]:
    found = validate_output("todo-list", sh.run("todo list --format json").stdout)
    assert isinstance(found, list)
    return found


def test_a_grant_that_expires_stays_on_the_list_until_someone_ticks_it(org: Shell) -> None:
    last_day = (org.clock.now + dt.timedelta(days=3)).date().isoformat()
    org.run(f"grant add jdoe instagram-main --role editor --reason Events --expires {last_day} "
            f"{org.as_('vperkins')}")
    assert todo(org) == []
    assert "Nothing to do" in org.run("todo").stdout
    org.clock.advance(5 * DAY)
    # No change has run since: expiry is read as it stands.
    grant = json.loads(org.run("grant show G-0001 --format json").stdout)
    assert grant["status"] == "expired"
    items = todo(org)
    assert [(i["grant_id"], i["person"], i["ended"], i["ended_on"]) for i in items] == [
        ("G-0001", "jdoe", "expired", last_day)]
    assert "Remove Jo Doe (jdoe) as Partial access: Content (editor) from instagram-main" in \
        items[0]["action"]
    assert "expired on " + last_day in items[0]["action"]
    assert items[0]["steps"]  # the platform's own steps
    # Only an approver for the account ticks it, and never for their own grant.
    refused = org.run("todo done G-0001 --as jdoe --otp 000000", expect=3)
    assert "jdoe" in one_line_error(refused)
    org.run(f"todo done G-0001 --note 'Removed from the Page' {org.as_('spatel')}")
    assert todo(org) == []
    again = org.run(f"todo done G-0001 {org.as_('spatel')}", expect=2)
    assert "already ticked on" in one_line_error(again)
    assert org.run("audit verify").exit_code == 0


def test_a_revoked_grant_is_on_the_list_with_the_reason(org: Shell) -> None:
    org.run(f"grant add jdoe instagram-main --role editor --reason Events {org.as_('vperkins')}")
    still = org.run(f"todo done G-0001 {org.as_('spatel')}", expect=2)
    assert "G-0001 is still active: revoke it first" in one_line_error(still)
    org.run(f"grant revoke G-0001 --reason 'Moved team' {org.as_('vperkins')}")
    [item] = todo(org)
    assert item["ended"] == "revoked"
    assert "revoked on" in item["action"] and "by vperkins: Moved team" in item["action"]
    table = org.run("todo").stdout
    assert "G-0001" in table and "instagram-main" in table


def test_a_leavers_grants_are_on_their_checklist_not_the_list(org: Shell) -> None:
    org.run(f"grant add jdoe instagram-main --role editor --reason Events {org.as_('vperkins')}")
    org.run(f"offboard start jdoe {org.as_('vperkins')}")
    assert todo(org) == []
    case = json.loads(org.run("offboard show jdoe --format json").stdout)
    assert any(item["kind"] == "remove-access" for item in case["items"])


def test_a_removal_ticked_before_leaving_is_not_asked_again(org: Shell) -> None:
    last_day = (org.clock.now + dt.timedelta(days=2)).date().isoformat()
    org.run(f"grant add jdoe instagram-main --role editor --reason Events --expires {last_day} "
            f"{org.as_('vperkins')}")
    org.clock.advance(3 * DAY)
    org.run(f"todo done G-0001 {org.as_('spatel')}")
    org.run(f"offboard start jdoe {org.as_('vperkins')}")
    case = json.loads(org.run("offboard show jdoe --format json").stdout)
    assert not [item for item in case["items"] if item["kind"] == "remove-access"]


def test_a_tick_forged_into_the_file_is_caught(org: Shell) -> None:
    from tests.support.behind import behind_the_log

    org.run(f"grant add jdoe instagram-main --role editor --reason Events {org.as_('vperkins')}")
    org.run(f"grant revoke G-0001 --reason gone {org.as_('vperkins')}")
    behind_the_log(org.db, "INSERT INTO platform_removals (grant_id, done_by, done_at, "
                           "authority) VALUES ('G-0001', 'spatel', '2026-01-01T00:00:00Z', "
                           "'trustee')")
    report = json.loads(org.run("audit verify --format json", expect=1).stdout)
    assert {f["table"] for f in report["state_findings"]} == {"platform_removals"}


def test_a_tiktok_account_is_a_shared_login_unless_told_otherwise(org: Shell) -> None:
    """Issue 16, item 6: TikTok's roles exist only in Business Center."""
    org.run(f"account add tiktok-main --platform tiktok --handle @i --owner vperkins "
            f"--purpose Clips {org.as_('spatel')}")
    org.run(f"account add tiktok-bc --platform tiktok --handle @j --owner vperkins "
            f"--purpose Ads --access delegated {org.as_('spatel')}")
    shown = {a["id"]: a["access"] for a in
             json.loads(org.run("account list --format json").stdout)}
    assert (shown["tiktok-main"], shown["tiktok-bc"]) == ("shared-login", "delegated")


def test_granting_says_what_to_do_on_the_platform_and_requests_show_who_asked(
        org: Shell) -> None:
    """Issue 16, item 6: the register records access; the platform must be given it too."""
    added = org.run(f"grant add jdoe instagram-main --role editor --reason Events "
                    f"{org.as_('vperkins')}").stdout
    assert added.splitlines()[-1] == ("Next, on Instagram: add Jo Doe to @interact as "
                                      "Partial access: Content.")
    org.run(f"account add tiktok-main --platform tiktok --handle @i --owner vperkins "
            f"--purpose Clips {org.as_('spatel')}")
    org.run(f"grant request jdoe tiktok-main --role member --reason Clips "
            f"{org.as_('spatel')}")
    table = org.run("grant list --status pending").stdout
    assert "requested" in table and "spatel" in table
    approved = org.run(f"grant approve G-0002 {org.as_('vperkins')}").stdout
    assert "accessgov cred reveal tiktok-main --as jdoe" in approved.splitlines()[-1]


def test_check_names_removals_left_for_over_a_week(org: Shell) -> None:
    org.run(f"grant add jdoe instagram-main --role editor --reason Events {org.as_('vperkins')}")
    org.run(f"grant revoke G-0001 --reason 'Moved team' {org.as_('vperkins')}")

    def overdue() -> list[dict[str, Any]]:
        data = json.loads(org.run("check --no-store --format json", expect=None).stdout)
        return [f for f in data["findings"] if f["rule"] == "GRT-003"]

    assert overdue() == []  # a week to do it
    org.clock.advance(8 * DAY)
    [finding] = overdue()
    assert finding["subject"] == "instagram-main"
    assert "jdoe (G-0001, revoked " in finding["message"]
    org.run(f"todo done G-0001 {org.as_('spatel')}")
    assert overdue() == []
