"""A hostile insider against the rules: every attack is refused (exit 3) with nothing changed
but the record of the attempt, or written with sqlite3 on the file and then refused by the
program and named by `audit verify` (exit 1).

Each test is named for the attack it makes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from accessgov.identity import sessions
from accessgov.workspace import Workspace
from tests.support.behind import behind_the_log, read_dicts, read_rows
from tests.support.shell import Shell, dump, one_line_error


@pytest.fixture
def insider(shared: Shell) -> Shell:
    """InterAct with a delegate `del1` (MFA, delegation D-0001 for instagram-main only), an
    employee `emp` without MFA, and jdoe holding G-0001 on the shared TikTok login."""
    sh = shared
    sh.run(f'person add del1 --name "Del One" --email d1@example.org --category employee '
           f'{sh.as_("vperkins")}')
    sh.enrol("del1", by="vperkins")
    sh.run(f'person add emp --name "Em Ployee" --email e@example.org --category employee '
           f'{sh.as_("vperkins")}')
    sh.run(f"delegate add del1 --account instagram-main {sh.as_('vperkins')}")
    return sh


def refused(sh: Shell, command: str, *, input: str | None = None,
            device: str | None = None) -> str:
    """Run an attack: exit 3, one line, and nothing changed but the refusal on record."""
    before = dump(sh.db)
    result = sh.run(command, expect=3, input=input, device=device)
    line = one_line_error(result)
    after = dump(sh.db)
    assert after["audit"][:-1] == before["audit"], "only the refusal may be added"
    event = after["audit"][-1]
    assert (event[3], json.loads(event[5])["reason"]) == ("refused", line.removeprefix("Error: "))
    after["audit"] = before["audit"]
    assert after == before
    return line


def verify(sh: Shell) -> dict:
    report = json.loads(sh.run("audit verify --format json", expect=1).stdout)
    assert report["ok"] is False
    return report


def findings(sh: Shell) -> set[tuple[str, str]]:
    return {(f["table"], f["row"]) for f in verify(sh)["state_findings"]}


def sql(sh: Shell, *statements: str, params: tuple[object, ...] = ()) -> None:
    behind_the_log(sh.db, *statements, params=params)


def last_event(sh: Shell) -> dict:
    return json.loads(sh.run("audit log --format json").stdout)[-1]


# -- 1. a delegate becomes the CEO ---------------------------------------------------------

@pytest.mark.parametrize("command", [
    "person update del1 --category trustee --board-minute BM1",
    "person update vperkins --category volunteer --board-minute BM1",
    "person update del1 --category ceo --board-minute BM1",
    "delegate add emp --all",
    "mfa reset vperkins --reason lost",
    "mfa enrol emp",
    "person add sock --name Sock --email s2@example.org --category trustee --board-minute BM1",
    "person update jdoe --title Boss",
    "account update instagram-main --handle @mine",
    "account archive tiktok-main --reason gone",
    "account add mine --platform x --handle @m --owner vperkins --purpose p",
    "delegate revoke D-0001 --reason restructure",
])
def test_a_delegate_cannot_act_beyond_grants_and_credentials_in_scope(
        insider: Shell, command: str) -> None:
    refused(insider, f"{command} {insider.as_('del1')}")


def test_a_delegate_cannot_approve_outside_their_scope(insider: Shell) -> None:
    line = refused(insider, f"grant add emp tiktok-main --role member --reason x "
                            f"{insider.as_('del1')}")
    assert "not the CEO, a trustee or a delegate for tiktok-main" in line


def test_nobody_makes_or_unmakes_themselves_an_approver(insider: Shell) -> None:
    line = refused(insider, f"person update vperkins --category trustee --board-minute BM1 "
                            f"{insider.as_('vperkins')}")
    assert "cannot make or unmake themselves an approver" in line


def test_making_a_trustee_needs_a_board_minute(insider: Shell) -> None:
    line = refused(insider, f"person update emp --category trustee {insider.as_('vperkins')}")
    assert "--board-minute" in line
    insider.run(f"person update emp --category trustee --board-minute 'BM 2026/11 item 3' "
                f"{insider.as_('vperkins')}")
    (event,) = json.loads(insider.run("audit log --action person.update --subject emp "
                                      "--format json").stdout)
    assert event["details"]["board_minute"] == "BM 2026/11 item 3"


# -- 2. self-approval by proxy --------------------------------------------------------------

def test_an_approver_cannot_take_over_the_account_by_making_themselves_owner(
        insider: Shell) -> None:
    refused(insider, f"account update instagram-main --owner del1 {insider.as_('del1')}")
    refused(insider, f"account update instagram-main --recovery-email d1@example.org "
                     f"{insider.as_('del1')}")
    insider.run(f"cred set instagram-main --kind password --stdin {insider.as_('vperkins')}",
                input="Insta-Canary-1\n")
    line = refused(insider, f"cred reveal instagram-main {insider.as_('del1')}")
    assert "has no active grant on instagram-main" in line


def test_an_approver_whose_mfa_was_enrolled_by_the_grantee_cannot_decide_for_them(
        insider: Shell) -> None:
    # Before invitations, an approver enrolled others and so held their seed. Such a record
    # (sealed, as the old accessgov wrote it) is still honoured as a fact, and refused as a
    # basis for decisions on the enroller's own grants.
    insider.run(f"person add sock --name Sock --email so@example.org --category trustee "
                f"--board-minute BM9 {insider.as_('vperkins')}")
    insider.enrol("sock", by="vperkins")
    workspace = Workspace(insider.db, env={}, backend_factory=insider.backend_factory,
                          clock=insider.clock)

    def enrolled_by_the_ceo(op):  # type: ignore[no-untyped-def]
        op.register.update("mfa", {"person": "sock"}, {"enrolled_by": "vperkins"})
        op.record("mfa.enrol", "sock", note="as enrolments were made before invitations")

    workspace.change(enrolled_by_the_ceo)
    workspace.close()
    insider.run(f"grant request vperkins tiktok-main --role member --reason me "
                f"{insider.as_('vperkins')}")
    line = refused(insider, f"grant approve G-0002 {insider.as_('sock')}")
    assert "sock's MFA was enrolled by vperkins" in line
    insider.run(f"grant approve G-0002 {insider.as_('spatel')}")  # a real second person


def test_an_approver_cannot_see_a_seed_enrolled_where_they_are_logged_in(
        insider: Shell) -> None:
    insider.run(f"login --as vperkins --otp {insider.code('vperkins')}")
    insider.run("mfa enrol emp")  # the invitation, through the session
    line = refused(insider, "mfa enrol emp --as emp")
    assert "vperkins is logged in here" in line


def test_someone_without_an_invitation_cannot_enrol(insider: Shell) -> None:
    line = refused(insider, "mfa enrol emp --as emp")
    assert "has not been invited" in line


def test_a_person_without_approver_rights_asks_only_for_themselves(insider: Shell) -> None:
    insider.enrol("jdoe", by="vperkins")
    insider.run(f"grant request jdoe instagram-main --role editor --reason 'own request' "
                f"{insider.as_('jdoe')}")
    refused(insider, f"grant request emp instagram-main --role editor --reason x "
                     f"{insider.as_('jdoe')}")
    refused(insider, f"grant approve G-0002 {insider.as_('jdoe')}")


# -- 3. the register edited behind the log ----------------------------------------------------

def test_an_inserted_grant_and_approval_open_nothing_and_are_named(insider: Shell) -> None:
    insider.enrol("emp", by="vperkins")
    sql(insider,
        "INSERT INTO grants (id, num, person, account, role, reason, requested_by, "
        "requested_at, status, decided_at) VALUES ('G-0099', 99, 'emp', 'tiktok-main', "
        "'member', 'x', 'vperkins', '2026-01-01T00:00:00Z', 'active', '2026-01-01T00:00:00Z')",
        "INSERT INTO approvals (grant_id, decision, approver, authority, mfa_verified, "
        "verified_by, at) VALUES ('G-0099', 'approved', 'vperkins', 'ceo', 1, 'totp code', "
        "'2026-01-01T00:00:00Z')")
    line = refused(insider, f"cred reveal tiktok-main {insider.as_('emp')}")
    assert "the grants row 'G-0099' does not carry accessgov's seal" in line
    found = findings(insider)
    assert ("grants", "G-0099") in found
    assert any(table == "approvals" for table, _ in found)


def test_a_session_written_into_the_file_opens_nothing(insider: Shell) -> None:
    token = "chosen-by-the-attacker"
    sql(insider, "INSERT INTO sessions (id, num, person, token_hash, proof, created_at, "
                 "expires_at) VALUES ('S-0099', 99, 'vperkins', ?, 'totp code', "
                 "'2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z')",
        params=(hashlib.sha256(token.encode()).hexdigest(),))
    sessions.write_ticket(insider.session_folder(), sessions.Ticket(
        str(insider.db.resolve()), "vperkins", "S-0099", token))
    line = refused(insider, "delegate add emp --all --as vperkins")
    assert "claims vperkins's session S-0099, but its token does not match" in line
    assert last_event(insider)["actor"] == "unknown"
    refused(insider, "whoami")
    assert ("sessions", "S-0099") in findings(insider)


def test_a_session_row_copied_with_a_real_token_hash_is_still_not_trusted(
        insider: Shell) -> None:
    """Even a correct HMAC does not help a row the log never wrote."""
    insider.run(f"login --as vperkins --otp {insider.code('vperkins')}")
    sql(insider, "UPDATE sessions SET expires_at = '2099-01-01T00:00:00Z'")
    line = refused(insider, "grant revoke G-0001 --reason x")
    assert "the sessions row 'S-0001' does not carry accessgov's seal" in line
    assert ("sessions", "S-0001") in findings(insider)


def test_losing_the_set_up_event_does_not_reopen_set_up(insider: Shell) -> None:
    sql(insider, "DELETE FROM settings WHERE key = 'bootstrapped_at'",
        "DELETE FROM audit WHERE action = 'mfa.confirm' AND details LIKE '%completes_setup%'")
    result = insider.run('person add mallory --name M --email m@example.org '
                         '--category trustee', expect=3)
    assert "lost the CEO's confirmed enrolment" in one_line_error(result)
    assert verify(insider)["bad_seq"] is not None


def test_an_emptied_log_is_a_finding_and_stops_every_change(insider: Shell) -> None:
    sql(insider, "DELETE FROM audit")
    report = verify(insider)
    assert (report["bad_seq"], report["problem"]) == (1, "the log is empty (its events were "
                                                         "deleted)")
    result = insider.run(f"person update jdoe --title X {insider.as_('vperkins')}", expect=3)
    assert "does not start with this register's sealed 'init' event" in one_line_error(result)


def test_a_log_without_its_init_event_is_a_finding(insider: Shell) -> None:
    sql(insider, "DELETE FROM audit WHERE seq = 1")
    report = verify(insider)
    assert (report["bad_seq"], report["problem"]) == (
        2, "event 1 before it is missing (deleted or renumbered)")
    result = insider.run(f"person update jdoe --title X {insider.as_('vperkins')}", expect=3)
    assert "does not start with this register's sealed 'init' event" in one_line_error(result)


def test_a_revoked_grant_put_back_as_its_older_copy_is_refused_and_named(
        insider: Shell) -> None:
    insider.enrol("jdoe", by="vperkins")
    (old,) = read_dicts(insider.db, "SELECT * FROM grants WHERE id = 'G-0001'")
    insider.run(f"grant revoke G-0001 --reason left {insider.as_('vperkins')}")
    columns = ", ".join(f"{name} = ?" for name in old)
    behind_the_log(insider.db, f"UPDATE grants SET {columns} WHERE id = 'G-0001'",
                   params=tuple(old.values()))
    line = refused(insider, f"cred reveal tiktok-main {insider.as_('jdoe')}")
    assert "is an older copy" in line
    assert ("grants", "G-0001") in findings(insider)


def test_a_category_changed_with_sqlite_grants_no_authority(insider: Shell) -> None:
    sql(insider, "UPDATE people SET category = 'trustee' WHERE id = 'emp'",
        "UPDATE people SET category = 'ceo' WHERE id = 'del1'",
        "UPDATE people SET category = 'employee' WHERE id = 'vperkins'")
    line = refused(insider, f"person update jdoe --title X {insider.as_('del1')}")
    assert "the people row 'del1' does not carry accessgov's seal" in line
    assert {("people", "emp"), ("people", "del1"), ("people", "vperkins")} <= findings(insider)


def test_a_delegation_widened_with_sqlite_grants_nothing(insider: Shell) -> None:
    sql(insider, "UPDATE delegations SET all_accounts = 1 WHERE id = 'D-0001'")
    line = refused(insider, f"grant add emp tiktok-main --role member --reason x "
                            f"{insider.as_('del1')}")
    assert "the delegations row 'D-0001' does not carry accessgov's seal" in line
    assert ("delegations", "D-0001") in findings(insider)


def test_a_failure_count_reset_with_sqlite_does_not_lift_a_lock_out(insider: Shell) -> None:
    for _ in range(5):
        insider.run("person update jdoe --title X --as vperkins --otp 000000", expect=3)
    sql(insider, "UPDATE mfa SET locked_until = NULL, failures = 0 WHERE person = 'vperkins'")
    line = refused(insider, f"person update jdoe --title X {insider.as_('vperkins')}")
    assert "the mfa row 'vperkins' does not carry accessgov's seal" in line


# -- 4. a session ticket forged in one's own runtime folder -------------------------------------

def forge(sh: Shell, session_id: str, person: str, *, device: str,
          token: str = "made-up-by-the-insider") -> Path:
    """Write a session file naming `person`'s session, with a token of the attacker's own."""
    return sessions.write_ticket(sh.session_folder(device), sessions.Ticket(
        str(sh.db.resolve()), person, session_id, token))


def open_sessions(sh: Shell) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in read_rows(
        sh.db, "SELECT id, person FROM sessions WHERE ended_at IS NULL ORDER BY id")]


def refused_as_unknown(sh: Shell, command: str, *, device: str | None,
                       claimed: tuple[str, str]) -> str:
    """A forged ticket's refusal: on record as the attempt of someone unknown, naming the
    session and the person the ticket claimed, never acting as that person."""
    line = refused(sh, command, device=device)
    session_id, person = claimed
    assert f"claims {person}'s session {session_id}, but" in line
    event = last_event(sh)
    assert event["actor"] == "unknown" != person
    assert (event["action"], event["subject"]) == ("refused", session_id)
    assert event["details"]["claimed_session"] == session_id
    assert event["details"]["claimed_person"] == person
    return line


@pytest.fixture
def ceo_logged_in(insider: Shell) -> Shell:
    """The CEO logged in on her own device (S-0001) and on her laptop (S-0002)."""
    insider.run(f"login --as vperkins --otp {insider.code('vperkins')}")
    insider.run(f"login --as vperkins --otp {insider.code('vperkins')}", device="laptop")
    assert open_sessions(insider) == [("S-0001", "vperkins"), ("S-0002", "vperkins")]
    return insider


def the_ceos_sessions_still_work(sh: Shell) -> None:
    assert open_sessions(sh)[:2] == [("S-0001", "vperkins"), ("S-0002", "vperkins")]
    for device, session_id in ((None, "S-0001"), ("laptop", "S-0002")):
        sh.run("person update jdoe --title 'Lead'", device=device)
        event = last_event(sh)
        assert (event["actor"], event["details"]["verified_by"]) == (
            "vperkins", f"session {session_id}")


def test_a_forged_ticket_cannot_log_the_ceo_out(ceo_logged_in: Shell) -> None:
    sh = ceo_logged_in
    path = forge(sh, "S-0001", "vperkins", device="del1")
    line = refused_as_unknown(sh, "logout", device="del1", claimed=("S-0001", "vperkins"))
    assert "its token does not match that session" in line
    assert not path.exists()  # one's own file is always removed
    the_ceos_sessions_still_work(sh)


def test_a_forged_ticket_cannot_end_the_ceos_sessions_through_ones_own_login(
        ceo_logged_in: Shell) -> None:
    sh = ceo_logged_in
    forge(sh, "S-0001", "vperkins", device="del1")
    refused_as_unknown(sh, f"login {sh.as_('del1')}", device="del1",
                       claimed=("S-0001", "vperkins"))
    the_ceos_sessions_still_work(sh)
    # The way out for whoever really sits there: logout removes the file (refused again).
    sh.run("logout", device="del1", expect=3)
    sh.run(f"login {sh.as_('del1')}", device="del1")
    assert open_sessions(sh) == [("S-0001", "vperkins"), ("S-0002", "vperkins"),
                                 ("S-0003", "del1")]


@pytest.mark.parametrize("command", [
    "person update jdoe --title Boss",
    "delegate add emp --all",
    "grant add del1 tiktok-main --role member --reason mine",
    "mfa enrol emp",
    "mfa reset spatel --reason lost",
    "person update jdoe --title Boss --as vperkins",
])
def test_a_forged_ticket_makes_nobody_the_operator_of_a_change(
        ceo_logged_in: Shell, command: str) -> None:
    sh = ceo_logged_in
    forge(sh, "S-0001", "vperkins", device="del1")
    refused_as_unknown(sh, command, device="del1", claimed=("S-0001", "vperkins"))
    the_ceos_sessions_still_work(sh)


def test_a_forged_ticket_is_refused_even_beside_ones_own_code(ceo_logged_in: Shell) -> None:
    sh = ceo_logged_in
    forge(sh, "S-0001", "vperkins", device="del1")
    refused_as_unknown(sh, f"grant add emp instagram-main --role editor --reason x "
                           f"{sh.as_('del1')}", device="del1", claimed=("S-0001", "vperkins"))


def test_whoami_refuses_a_forged_ticket(ceo_logged_in: Shell) -> None:
    sh = ceo_logged_in
    forge(sh, "S-0002", "vperkins", device="del1")
    refused_as_unknown(sh, "whoami --format json", device="del1",
                       claimed=("S-0002", "vperkins"))
    the_ceos_sessions_still_work(sh)


def test_a_forged_ticket_does_not_stand_in_for_a_session_at_enrolment(
        ceo_logged_in: Shell) -> None:
    sh = ceo_logged_in
    sh.run("mfa enrol emp")  # the CEO's invitation, through her session
    forge(sh, "S-0001", "vperkins", device="emp")
    refused_as_unknown(sh, "mfa enrol emp --as emp", device="emp",
                       claimed=("S-0001", "vperkins"))


def test_a_ticket_edited_to_name_someone_else_is_forged(ceo_logged_in: Shell) -> None:
    """The CEO's own genuine token, her ticket edited to name emp: the enrolment guard would
    have taken the ticket's word that emp, not she, is logged in here."""
    sh = ceo_logged_in
    sh.run("mfa enrol emp")
    (path,) = sh.session_folder().iterdir()
    ticket = json.loads(path.read_text())
    path.write_text(json.dumps(ticket | {"person": "emp"}))
    line = refused_as_unknown(sh, "mfa enrol emp --as emp", device=None,
                              claimed=("S-0001", "emp"))
    assert "that session is not emp's" in line


def test_a_ticket_naming_no_session_here_names_nobody(insider: Shell) -> None:
    """A stale file (a register made again at the same path) is no one's claim."""
    forge(insider, "S-0042", "vperkins", device="del1")
    result = insider.run("person update jdoe --title Boss", device="del1", expect=3)
    assert "name the person acting with --as" in one_line_error(result)
    before = dump(insider.db)
    assert insider.run("logout", device="del1").stdout == "No session was open.\n"
    assert dump(insider.db) == before
