"""Issue 17, item 2: the compromised-account playbook. Anyone in scope reports an incident;
the register writes its checklist (credentials to rotate, sessions, recovery, grants to
review, who to tell, the decision on the Charity Commission); items tick themselves when the
change is made; only the CEO or a trustee decides and closes; `check` names one left open."""

from __future__ import annotations

import json

from tests.support.behind import behind_the_log
from tests.support.schemas import validate_output
from tests.support.shell import Shell


def show(sh: Shell, incident: str = "I-0001") -> dict:  # type: ignore[type-arg]
    data = validate_output("incident-show", sh.run(f"incident show {incident} --format json")
                           .stdout)
    assert isinstance(data, dict)
    return data


def kinds(data: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["kind"] for item in data["items"]]


def test_a_volunteer_reports_a_compromised_account_and_the_board_works_it(
        shared: Shell) -> None:
    opened = shared.run("incident open tiktok-main --kind compromised --summary 'Strange posts "
                        "at night' --as jdoe")
    assert "Opened I-0001" in opened.stdout and "Rotate the password" in opened.stdout
    data = show(shared)
    assert (data["opened_by"], data["opened_verified_by"]) == ("jdoe", "not verified")
    assert kinds(data) == ["rotate", "sessions", "recovery", "grant", "tell", "tell",
                           "decision"]
    assert "G-0001" in data["items"][3]["action"]
    assert "Charity Commission" in data["items"][-1]["action"]

    # The password is rotated: its item ticks itself.
    shared.run(f"cred rotate tiktok-main --stdin {shared.as_('vperkins')}",
               input="Tt-second-Canary-1\n")
    assert show(shared)["items"][0]["status"] == "done"

    # The volunteer cannot work the list, decide or close it.
    assert shared.run("incident done I-0001 2 --as jdoe --otp 000000", expect=3)
    refused = shared.run("incident decide I-0001 --report no --reason x --as jdoe "
                         "--otp 000000", expect=3)
    assert "CEO or a trustee" in refused.output
    for number in (2, 3, 5, 6):
        shared.run(f"incident done I-0001 {number} {shared.as_('spatel')}")
    # A self-ticking item needs a note to tick by hand; the decision has its own command.
    assert "--note" in shared.run(f"incident done I-0001 4 {shared.as_('spatel')}",
                                  expect=2).output
    assert "incident decide" in shared.run(f"incident done I-0001 7 {shared.as_('spatel')}",
                                           expect=2).output
    shared.run(f"incident done I-0001 4 --note 'Jo reported it; keeps access' "
               f"{shared.as_('spatel')}")
    still = shared.run(f"incident close I-0001 {shared.as_('spatel')}", expect=2)
    assert "1 item(s) to do" in still.output
    shared.run(f"incident decide I-0001 --report no --reason 'No harm to beneficiaries; no "
               f"data lost' {shared.as_('spatel')}")
    shared.run(f"incident close I-0001 {shared.as_('vperkins')}")
    data = show(shared)
    assert (data["status"], data["report"], data["decided_by"]) == ("closed", "no", "spatel")
    assert all(item["status"] == "done" for item in data["items"])

    for fmt in ("csv", "md", "html"):
        assert "I-0001" in shared.run(f"incident export I-0001 --format {fmt}").stdout
    exported = validate_output("incident-export",
                               shared.run("incident export I-0001 --format json").stdout)
    assert exported == data  # type: ignore[comparison-overlap]
    listed = validate_output("incident-list", shared.run("incident list --format json").stdout)
    assert isinstance(listed, list)
    assert [(row["id"], row["status"], row["open_items"]) for row in listed] == [
        ("I-0001", "closed", 0)]
    actions = [e["action"] for e in json.loads(
        shared.run("audit log --action incident --format json").stdout)]
    assert actions[0] == "incident.open" and actions[-1] == "incident.close"
    assert "incident.tick" in actions and "incident.decide" in actions


def test_a_lost_phone_lists_the_persons_credentials_and_their_own_mfa(shared: Shell) -> None:
    shared.run(f"incident open vperkins --kind device-lost --summary 'Phone left on a train' "
               f"{shared.as_('vperkins')}")
    data = show(shared)
    assert data["opened_verified_by"] != "not verified"  # she is enrolled: she proved it
    assert "operator-mfa" in kinds(data)
    assert any(item["kind"] == "rotate" and item["account"] == "tiktok-main"
               for item in data["items"])
    shared.run(f"mfa reset vperkins --reason 'Phone lost' {shared.as_('spatel')}")
    mfa_item = next(item for item in show(shared)["items"] if item["kind"] == "operator-mfa")
    assert mfa_item["status"] == "done"


def test_an_incident_left_open_a_week_is_a_finding(shared: Shell) -> None:
    shared.run("incident open tiktok-main --kind wrong-post --summary 'Posted a photo "
               "without consent' --as jdoe")
    shared.clock.advance(8 * 24 * 3600)
    found = json.loads(shared.run("check --format json", expect=None).stdout)
    findings = found["findings"] if isinstance(found, dict) else found
    inc = [f for f in findings if f["rule"] == "INC-001"]
    assert [f["subject"] for f in inc] == ["I-0001"]
    assert inc[0]["heading"] == "Reporting Non-Compliance"


def test_an_item_deleted_with_sqlite_is_named(shared: Shell) -> None:
    shared.run("incident open tiktok-main --kind compromised --summary x --as jdoe")
    behind_the_log(shared.db, "DELETE FROM incident_items WHERE incident_id = 'I-0001' "
                   "AND kind = 'decision'")
    assert shared.run("audit verify", expect=1).exit_code == 1
    shared.run(f"incident close I-0001 {shared.as_('spatel')}", expect=3)


def test_an_item_ticked_with_sqlite_cannot_close_the_incident(shared: Shell) -> None:
    """An insider marks every item done, the decision on the Charity Commission included,
    straight in the register: the close is refused, and nothing is closed."""
    shared.run("incident open tiktok-main --kind compromised --summary x --as jdoe")
    behind_the_log(shared.db, "UPDATE incident_items SET status = 'done', done_by = 'spatel' "
                   "WHERE incident_id = 'I-0001'")
    shared.run(f"incident close I-0001 {shared.as_('spatel')}", expect=3)
    assert show(shared)["status"] == "open"


def test_unknown_subjects_and_kinds_are_one_line(shared: Shell) -> None:
    missing = shared.run("incident open nobody --kind other --summary x --as jdoe", expect=2)
    assert "no account or person 'nobody'" in missing.output
    assert shared.run("incident show I-0042", expect=2).output.count("\n") == 1
