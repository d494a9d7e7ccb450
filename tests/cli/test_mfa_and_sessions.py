"""Operators prove who they are: bootstrap, enrolment, codes, lock-out and sessions."""

from __future__ import annotations

import json
import os
import stat

from tests.support.behind import file_only, read_rows, register_bytes
from tests.support.shell import Shell, one_line_error


def audit_actions(sh: Shell) -> list[str]:
    return [event["action"] for event in json.loads(sh.run("audit log --format json").stdout)]


def register_snapshot(sh: Shell) -> tuple[str, str]:
    """Everything a refused command must leave unchanged."""
    return (sh.run("audit log --format json").stdout, sh.run("grant list --format json").stdout)


def test_a_new_register_accepts_the_ceo_and_their_first_enrolment_without_a_code(
        shell: Shell) -> None:
    shell.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    shell.run('account add fb --platform facebook --handle InterAct --owner vperkins '
              '--purpose "News"')
    result = shell.run("mfa enrol vperkins")
    assert result.stdout.startswith("otpauth://totp/accessgov:vperkins%40interact?secret=")
    assert "mfa verify vperkins" in result.stderr


def test_before_the_ceo_has_mfa_nobody_else_can_be_enrolled(shell: Shell) -> None:
    shell.run('person add spatel --name "Sonal Patel" --email s@example.org --category trustee')
    result = shell.run("mfa enrol spatel", expect=3)
    assert "the CEO must set up and confirm MFA first" in one_line_error(result)


def test_once_set_up_every_change_needs_an_approver_with_a_code(org: Shell) -> None:
    add_person = 'person add kim --name "Kim Lee" --email k@example.org --category volunteer'
    result = org.run(add_person, expect=3)
    assert "name the person acting" in one_line_error(result)
    result = org.run(f"{add_person} --as vperkins", expect=3)
    assert "--otp CODE" in one_line_error(result)
    result = org.run(f"{add_person} --as jdoe --otp 123456", expect=3)
    assert "only the CEO or a trustee can add people; jdoe is not" in one_line_error(result)
    org.run(f"{add_person} {org.as_('spatel')}")


def test_an_approver_without_mfa_can_approve_nothing(org: Shell) -> None:
    org.run(f'person add trustee2 --name "Tom Tee" --email t@example.org --category trustee '
            f'--board-minute "BM 2026/02 item 1" {org.as_("vperkins")}')
    org.run(f"grant request jdoe instagram-main --role editor --reason x {org.as_('vperkins')}")
    result = org.run("grant approve G-0001 --as trustee2 --otp 123456", expect=3)
    assert "trustee2 has not enrolled MFA" in one_line_error(result)


def test_a_wrong_code_is_refused_audited_and_changes_nothing_else(org: Shell) -> None:
    before = register_snapshot(org)
    result = org.run("grant add jdoe instagram-main --role editor --reason x "
                     "--as vperkins --otp 000000", expect=3)
    assert "not correct" in one_line_error(result)
    assert org.run("grant list --format json").stdout == before[1]
    assert audit_actions(org)[-1] == "mfa.code_rejected"


def test_a_replayed_code_is_refused(org: Shell) -> None:
    code = org.code("vperkins")
    org.run(f"grant request jdoe instagram-main --role editor --reason x --as vperkins "
            f"--otp {code}")
    result = org.run(f"grant decline G-0001 --as vperkins --otp {code}", expect=3)
    assert "already been used" in one_line_error(result)
    assert json.loads(org.run("grant show G-0001 --format json").stdout)["status"] == "pending"


def test_five_wrong_codes_lock_the_person_out_even_with_the_right_code(org: Shell) -> None:
    for _ in range(5):
        org.run("person update jdoe --title Lead --as vperkins --otp 000000", expect=3)
    result = org.run(f"person update jdoe --title Lead {org.as_('vperkins')}", expect=3)
    assert "locked out after 5 wrong codes" in one_line_error(result)
    assert audit_actions(org).count("mfa.code_rejected") == 5
    rejected = json.loads(org.run("audit log --action mfa.code_rejected --format json").stdout)
    assert [e["details"]["failures_in_a_row"] for e in rejected] == [1, 2, 3, 4, 5]
    assert "locked_until" in rejected[-1]["details"]
    org.clock.advance(15 * 60)
    org.run(f"person update jdoe --title Lead {org.as_('vperkins')}")


def test_a_refused_action_leaves_the_code_unused(org: Shell) -> None:
    code = org.code("vperkins")
    refused = org.run(f"grant add vperkins instagram-main --role admin --reason x --as vperkins "
                      f"--otp {code}", expect=3)
    assert "cannot approve their own access" in one_line_error(refused)
    assert "mfa.code_rejected" not in audit_actions(org)
    # The same code still works once: the refusal did not spend it.
    org.run(f"grant add jdoe instagram-main --role admin --reason x --as vperkins --otp {code}")
    granted = json.loads(org.run("grant show G-0001 --format json").stdout)
    assert (granted["person"], granted["decided_by"], granted["verified_by"]) == (
        "jdoe", "vperkins", "totp code")


def test_without_a_terminal_or_code_a_sensitive_command_exits_3(org: Shell) -> None:
    result = org.run("grant add jdoe instagram-main --role editor --reason x --as vperkins",
                     expect=3)
    assert "add --otp CODE, or run 'accessgov login' first" in one_line_error(result)


def test_on_a_terminal_the_code_is_asked_for_hidden(org: Shell) -> None:
    code = org.code("vperkins")
    result = org.run("grant add jdoe instagram-main --role editor --reason x --as vperkins",
                     input=f"{code}\n", interactive=True)
    assert "Code from vperkins's authenticator app" in result.stderr
    assert code not in result.stdout + result.stderr  # hidden input is not echoed


def test_one_login_serves_a_run_of_work_until_it_expires(org: Shell) -> None:
    org.run(f"login --as vperkins --otp {org.code('vperkins')} --ttl 10m")
    whoami = json.loads(org.run("whoami --format json").stdout)
    assert whoami["person"] == "vperkins" and whoami["session"] == "S-0001"
    org.run("grant add jdoe instagram-main --role editor --reason x")
    grant = json.loads(org.run("grant show G-0001 --format json").stdout)
    assert grant["verified_by"] == "session S-0001"
    org.clock.advance(11 * 60)
    result = org.run("grant revoke G-0001 --reason done", expect=3)
    assert "needs vperkins's MFA" in one_line_error(result)


def test_the_session_file_is_private_and_the_register_holds_only_its_hash(org: Shell) -> None:
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    folder = org.session_folder()
    (ticket,) = folder.iterdir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(ticket.stat().st_mode) == 0o600
    token = json.loads(ticket.read_text())["token"]
    assert token.encode() not in register_bytes(org.db)


def test_logout_ends_the_session(org: Shell) -> None:
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    assert "session S-0001 ended" in org.run("logout").stdout
    assert "No session is open" in org.run("whoami").stdout
    org.run("grant add jdoe instagram-main --role editor --reason x", expect=3)


def session_states(sh: Shell) -> list[tuple[str, str | None]]:
    return [(row[0], row[1]) for row in read_rows(
        sh.db, "SELECT id, ended_reason FROM sessions ORDER BY id")]


def test_a_new_login_ends_only_the_session_it_replaces(org: Shell) -> None:
    """A person may be logged in on two machines: logging in again on one leaves the other."""
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    org.run(f"login --as vperkins --otp {org.code('vperkins')}", device="laptop")
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    assert session_states(org) == [("S-0001", "replaced by a new login"), ("S-0002", None),
                                   ("S-0003", None)]
    assert json.loads(org.run("whoami --format json", device="laptop").stdout)[
        "session"] == "S-0002"
    assert "session S-0003 ended" in org.run("logout").stdout
    assert session_states(org)[1:] == [("S-0002", None), ("S-0003", "logout")]
    org.run("person update jdoe --title Lead", device="laptop")


def test_a_login_on_a_shared_machine_ends_the_session_it_replaces(org: Shell) -> None:
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    org.run(f"login --as spatel --otp {org.code('spatel')}")
    assert session_states(org) == [("S-0001", "replaced by a new login"), ("S-0002", None)]


def test_someone_elses_session_does_not_act_for_you(org: Shell) -> None:
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    result = org.run("grant add jdoe instagram-main --role editor --reason x --as spatel",
                     expect=3)
    assert "needs spatel's MFA" in one_line_error(result)


def test_a_session_is_at_most_twelve_hours(org: Shell) -> None:
    result = org.run(f"login --as vperkins --otp {org.code('vperkins')} --ttl 13h", expect=2)
    assert "between 1 minute and 12 hours" in one_line_error(result)


def test_mfa_reset_ends_sessions_and_needs_a_new_enrolment(org: Shell) -> None:
    org.run(f"login --as spatel --otp {org.code('spatel')}")
    org.run(f"mfa reset spatel --reason 'lost phone' {org.as_('vperkins')}")
    result = org.run("grant add jdoe instagram-main --role editor --reason x --as spatel",
                     expect=3)
    assert "spatel has not enrolled MFA" in one_line_error(result)
    org.enrol("spatel", by="vperkins")


def test_the_last_board_member_with_mfa_cannot_be_reset(org: Shell) -> None:
    org.run(f"mfa reset spatel --reason test {org.as_('vperkins')}")
    result = org.run(f"mfa reset vperkins --reason test {org.as_('vperkins')}", expect=3)
    assert "would leave no CEO or trustee with MFA" in one_line_error(result)


def test_a_confirmed_enrolment_cannot_be_overwritten(org: Shell) -> None:
    result = org.run(f"mfa enrol spatel {org.as_('vperkins')}", expect=2)
    assert "use 'accessgov mfa reset spatel'" in one_line_error(result)


def test_operator_seeds_stay_in_the_secret_store(org: Shell) -> None:
    held = register_bytes(org.db)
    for seed in org.seeds.values():
        assert seed.encode() not in held
    assert all(seed not in org.run("audit log --format json").stdout
               for seed in org.seeds.values())


@file_only("a database's own access rules stand for it ('accessgov db setup')")
def test_the_register_file_is_0600_in_a_0700_folder(org: Shell) -> None:
    assert stat.S_IMODE(os.stat(org.db).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(org.db.parent).st_mode) == 0o700


def test_lock_out_holds_when_wrong_codes_arrive_all_at_once(org: Shell) -> None:
    """Twelve wrong codes in parallel, each through its own connection: exactly five are
    checked and counted; the rest meet the lock-out."""
    import threading

    from accessgov.access.people import update_person
    from accessgov.errors import LockedOut, MfaFailed
    from accessgov.workspace import Workspace

    start = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt() -> None:
        workspace = Workspace(org.db, env={}, backend_factory=org.backend_factory,
                              clock=org.clock)
        try:
            start.wait()
            workspace.change(lambda op: update_person(op, "jdoe", {"title": "X"}),
                             operator="vperkins", code="000000")
        except LockedOut:
            outcomes.append("locked out")
        except MfaFailed:
            outcomes.append("wrong")
        finally:
            workspace.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["locked out"] * 7 + ["wrong"] * 5
    assert audit_actions(org).count("mfa.code_rejected") == 5
    assert audit_actions(org).count("refused") == 7
