"""The chain head in the secret store and the log's time, in-process on the memory store.

The attacks themselves, with `faketime` and a real program on the keyring and OpenBao, are in
tests/integration/test_clock_and_rollback.py; these are the rules, case by case, fast.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from accessgov.audit import head as chain_head
from accessgov.db.register import Register
from accessgov.errors import BackendUnavailable, LockedOut
from accessgov.governance.checks import accounts
from accessgov.governance.checks.base import Context
from accessgov.identity import totp
from accessgov.secrets.base import VersionConflict
from accessgov.secrets.openbao.head import Head
from accessgov.workspace import Workspace
from tests.support.behind import behind_the_log, file_only
from tests.support.memory_backend import MemoryBackend
from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error

RESTORED = "this register is older than its last recorded change: restored from a copy?"
CLOCK_BEHIND = "earlier than the audit log's last event"
ADD = "person add kim --name Kim --email k@example.org --category volunteer"


def record(store: dict[str, Any]) -> chain_head.StoreRecord:
    """The head record as the org's register keeps it in the memory store."""
    return chain_head.StoreRecord(MemoryBackend("interact", store))


def setting(sh: Shell, key: str) -> str | None:
    register = Register.open(sh.db)
    try:
        return register.setting(key)
    finally:
        register.close()


def newest(sh: Shell) -> tuple[int, str]:
    register = Register.open(sh.db)
    try:
        row = register.row("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1")
        assert row is not None
        return int(row["seq"]), str(row["mac"])
    finally:
        register.close()


def copy_of(db: Path, to: Path) -> Path:
    to.mkdir()
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            shutil.copy2(f"{db}{suffix}", to / f"{db.name}{suffix}")
    return to


def put_back(copy: Path, db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
        if (copy / f"{db.name}{suffix}").exists():
            shutil.copy2(copy / f"{db.name}{suffix}", f"{db}{suffix}")


def verify_json(sh: Shell, expect: int) -> dict[str, Any]:
    data = validate_output("audit-verify",
                           sh.run("audit verify --format json", expect=expect).stdout)
    assert isinstance(data, dict)
    return data


# -- the head record ---------------------------------------------------------------------------


def test_every_change_moves_the_record_and_the_register_knows_its_version(
        org: Shell, store: dict[str, Any]) -> None:
    stored = record(store).read()
    assert stored.head is not None
    assert (stored.head.sequence, stored.head.digest) == newest(org)
    assert setting(org, chain_head.VERSION_SETTING) == str(stored.version)
    org.run(f"{ADD} {org.as_('vperkins')}")
    after = record(store).read()
    assert after.version == stored.version + 1
    assert after.head is not None and after.head.sequence == newest(org)[0]
    assert after.head.actor == "vperkins"


def test_a_refused_attempt_moves_the_record_and_nothing_else(org: Shell,
                                                            store: dict[str, Any]) -> None:
    stored = record(store).read()
    before = dump(org.db)
    for _ in range(3):
        org.run(f"{ADD} --as jdoe", expect=3)  # jdoe may not add people
    after = dump(org.db)
    assert after["audit"][:-3] == before["audit"]
    after["audit"] = before["audit"]
    assert after == before  # the register's version stayed where its last change put it
    assert record(store).read().version == stored.version + 3
    org.run(f"{ADD} {org.as_('vperkins')}")  # three refusals ahead of it: still its own


@file_only("a copy of the file put back; on PostgreSQL a restored dump is checked by "
           "'backup verify' (tests/integration/test_several_administrators.py)")
def test_a_register_put_back_from_a_copy_is_refused_and_named(
        org: Shell, store: dict[str, Any], tmp_path: Path) -> None:
    copy = copy_of(org.db, tmp_path / "backup")
    org.run(f"offboard start jdoe --reason Leaving {org.as_('vperkins')}")
    put_back(copy, org.db)
    before = dump(org.db)
    for command in (ADD + " --as vperkins --otp {}", "login --as jdoe --otp {}"):
        person = "vperkins" if "vperkins" in command else "jdoe"
        result = org.run(command.format(org.code(person)) if person != "jdoe"
                         else "login --as jdoe --otp 123456", expect=3)
        assert RESTORED in one_line_error(result)
    assert dump(org.db) == before  # refused, and not even recorded
    assert RESTORED in org.run("audit verify", expect=1).stdout
    assert RESTORED in str(verify_json(org, expect=1)["rolled_back"])
    # An insider who may write the head writes the copy's own head back: the version tells.
    current = record(store).read()
    seq, mac = newest(org)
    record(store).write(Head(seq, mac, "insider"), current.version)
    assert RESTORED in one_line_error(org.run(f"{ADD} {org.as_('vperkins')}", expect=3))
    assert RESTORED in org.run("audit verify", expect=1).stdout


@file_only("a copy of the file put back; on PostgreSQL a restored dump is checked by "
           "'backup verify' (tests/integration/test_several_administrators.py)")
def test_a_copy_with_refused_attempts_after_its_last_change_is_still_found(
        org: Shell, store: dict[str, Any], tmp_path: Path) -> None:
    org.run(f"{ADD} --as jdoe", expect=3)
    copy = copy_of(org.db, tmp_path / "backup")
    org.run(f"{ADD} {org.as_('vperkins')}")
    put_back(copy, org.db)
    # The copy may be one refusal ahead of its version; the store moved one more since.
    current = record(store).read()
    seq, mac = newest(org)
    record(store).write(Head(seq, mac, "insider"), current.version)
    assert RESTORED in one_line_error(
        org.run(f"person add zed --name Z --email z@example.org --category volunteer "
                f"{org.as_('vperkins')}", expect=3))


def test_a_lost_head_write_is_a_warning_and_the_next_change_catches_up(
        org: Shell, store: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    stored = record(store).read()
    write = chain_head.StoreRecord.write

    def down(self: chain_head.StoreRecord, head: Head, expect_version: int) -> int:
        monkeypatch.setattr(chain_head.StoreRecord, "write", write)  # once
        raise BackendUnavailable("test: store down")

    monkeypatch.setattr(chain_head.StoreRecord, "write", down)
    result = org.run(f"{ADD} {org.as_('vperkins')}")
    assert "Warning: the change is saved, but the audit chain's head could not be recorded " \
        "in the secret store (test: store down); the next change records it" in result.stderr
    assert record(store).read().version == stored.version  # one behind the register
    assert "intact" in org.run("audit verify").stdout
    org.run(f"person add zed --name Z --email z@example.org --category volunteer "
            f"{org.as_('vperkins')}")
    caught_up = record(store).read()
    assert caught_up.head is not None and caught_up.head.sequence == newest(org)[0]
    assert setting(org, chain_head.VERSION_SETTING) == str(caught_up.version)


def test_a_lost_race_for_the_head_says_nothing(org: Shell, store: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def raced(self: chain_head.StoreRecord, head: Head, expect_version: int) -> int:
        raise VersionConflict("another change moved it")

    monkeypatch.setattr(chain_head.StoreRecord, "write", raced)
    assert "Warning" not in org.run(f"{ADD} {org.as_('vperkins')}").stderr
    monkeypatch.undo()
    org.run(f"person add zed --name Z --email z@example.org --category volunteer "
            f"{org.as_('vperkins')}")


def test_a_record_erased_or_reset_in_the_store_is_refused(org: Shell,
                                                          store: dict[str, Any]) -> None:
    backend = MemoryBackend("interact", store)
    backend.delete(chain_head.HEAD_PATH)
    assert "is gone from the secret store" in one_line_error(
        org.run(f"{ADD} {org.as_('vperkins')}", expect=3))
    seq, mac = newest(org)
    record(store).write(Head(seq, mac), 0)  # started again at version 1
    assert "the record was reset in the secret store" in one_line_error(
        org.run(f"{ADD} {org.as_('vperkins')}", expect=3))


def test_a_head_that_is_not_one_of_our_events_is_refused(org: Shell,
                                                         store: dict[str, Any]) -> None:
    stored = record(store).read()
    assert stored.head is not None
    record(store).write(Head(stored.head.sequence, "f" * 64), stored.version)
    assert RESTORED in one_line_error(org.run(f"{ADD} {org.as_('vperkins')}", expect=3))


def test_a_new_register_records_its_first_head_on_its_first_change(
        shell: Shell, store: dict[str, Any]) -> None:
    assert record(store).read().version == 0
    assert setting(shell, chain_head.VERSION_SETTING) is None
    shell.run('person add vperkins --name "V P" --email v@example.org --category ceo')
    assert record(store).read().version == 1
    assert setting(shell, chain_head.VERSION_SETTING) == "1"


# -- the log's time ----------------------------------------------------------------------------


def test_a_change_dated_before_the_last_event_is_refused_and_not_recorded(org: Shell) -> None:
    before = dump(org.db)
    org.clock.advance(-3600)
    result = org.run(f"{ADD} {org.as_('vperkins')}", expect=3)
    assert CLOCK_BEHIND in one_line_error(result)
    assert "accessgov clock acknowledge --board-minute REF" in result.stderr
    result = org.run(f"{ADD} --as vperkins --otp 000000", expect=3)  # not even a wrong code
    assert CLOCK_BEHIND in one_line_error(result)
    assert dump(org.db) == before


def test_a_clock_that_ran_ahead_is_acknowledged_by_an_approver(org: Shell) -> None:
    org.clock.advance(365 * 86400)
    org.run(f"{ADD} {org.as_('vperkins')}")  # dated a year ahead, with a code of that time
    org.clock.advance(-365 * 86400)
    findings = verify_json(org, expect=1)["time_findings"]
    assert [found["problem"].split(",")[0] for found in findings] == [
        f"event {findings[0]['seq']} (person.add) is dated {findings[0]['at']}"]
    assert "in the future" in org.run("audit verify", expect=1).stdout
    assert CLOCK_BEHIND in one_line_error(org.run(
        f"person add zed --name Z --email z@example.org --category volunteer "
        f"{org.as_('vperkins')}", expect=3))
    assert "nothing to acknowledge" not in org.run(
        "clock acknowledge --board-minute 'BM 2026/12 item 3' --as jdoe", expect=3).stderr
    done = org.run(f"clock acknowledge --board-minute 'BM 2026/12 item 3' "
                   f"{org.as_('spatel')}").stdout
    assert done.startswith("Acknowledged: the audit log's time steps back from ")
    # vperkins's code of a year ahead does not make every code until then "already used".
    org.run(f"person add zed --name Z --email z@example.org --category volunteer "
            f"{org.as_('vperkins')}")
    verified = org.run("audit verify").stdout
    assert verified.startswith("The audit log of InterAct is intact")
    assert "as spatel acknowledged (board minute BM 2026/12 item 3)" in verified
    assert "in the future, by the clock acknowledged at event" in verified
    data = verify_json(org, expect=0)
    # The change dated ahead, jdoe's refused attempt (dated at the log's time, not back), and
    # the step back itself.
    assert data["time_findings"] == [] and len(data["clock_acknowledged"]) == 3
    event = json.loads(org.run("audit log --action clock --format json").stdout)[0]
    assert event["actor"] == "spatel" and event["details"]["board_minute"] == "BM 2026/12 item 3"
    assert event["details"]["verified_by"] == "totp code"


def test_the_clock_needs_acknowledging_only_when_it_is_behind(org: Shell) -> None:
    result = org.run(f"clock acknowledge --board-minute BM1 {org.as_('vperkins')}", expect=2)
    assert "there is nothing to acknowledge" in one_line_error(result)
    org.run(f"{ADD} {org.as_('vperkins')}")  # the code was not spent


def test_a_refused_acknowledgement_is_dated_no_earlier_than_the_log(org: Shell) -> None:
    org.clock.advance(-3600)
    org.run("clock acknowledge --board-minute BM1 --as jdoe", expect=3)
    org.run("clock acknowledge --board-minute BM1 --as spatel --otp 000000", expect=3)
    times = [event["at"] for event in json.loads(org.run("audit log --format json").stdout)]
    assert times == sorted(times)
    org.clock.advance(3600)
    assert "intact" in org.run("audit verify").stdout


def test_verify_names_an_event_dated_back(org: Shell) -> None:
    workspace = Workspace(org.db, env={}, backend_factory=org.backend_factory,
                          clock=lambda: org.clock.now - dt.timedelta(hours=2))
    try:  # what only a forged log could hold: a change dated back, not acknowledged
        workspace.change(lambda op: op.record_system("test.note", "register"),
                         acknowledging_clock=True)
    finally:
        workspace.close()
    findings = verify_json(org, expect=1)["time_findings"]
    assert len(findings) == 1
    assert "before the event before it" in findings[0]["problem"]
    assert "it was recorded by a clock set back" in org.run("audit verify", expect=1).stdout


# -- the lock-out's cap ------------------------------------------------------------------------


def lock_state(locked_until: str | None) -> dict[str, Any]:
    return {"person": "spatel", "locked_until": locked_until, "failures": 0, "last_step": 0}


@pytest.mark.parametrize(("minutes_after_failure", "locked"), [
    (0, True), (14, True), (15, False), (-1, False), (-50 * 365 * 24 * 60, False)])
def test_a_lock_out_lasts_fifteen_minutes_after_its_failure_by_any_clock(
        minutes_after_failure: int, locked: bool) -> None:
    failure = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
    state = lock_state(totp.after_failure({"failures": 4, "locked_until": None},
                                          failure)["locked_until"])  # type: ignore[arg-type]
    now = failure + dt.timedelta(minutes=minutes_after_failure)
    if locked:
        with pytest.raises(LockedOut, match="try again after 10:15 UTC"):
            totp.ensure_not_locked(state, now)
    else:
        totp.ensure_not_locked(state, now)


# -- SEC-007: a keyring register with several approvers ---------------------------------------


def keyring_findings(sh: Shell, backend: str) -> list[str]:
    register = Register.open(sh.db)
    try:
        context = Context(register, sh.clock.now.date().isoformat())
        context.__dict__["settings"] = register.settings() | {"backend": backend}
        return [f.message for f in accounts.findings(context) if f.rule == "SEC-007"]
    finally:
        register.close()


def test_several_approvers_on_a_keyring_register_are_a_finding(org: Shell) -> None:
    (message,) = keyring_findings(org, "keyring")
    assert message.startswith("2 approvers (spatel, vperkins) act in a register whose secrets")
    assert "move to OpenBao" in message
    assert keyring_findings(org, "vault") == []


def test_one_approver_on_a_keyring_register_is_no_finding(shell: Shell) -> None:
    shell.run('person add vperkins --name "V P" --email v@example.org --category ceo')
    shell.enrol("vperkins")
    shell.run(f'person add jdoe --name "Jo Doe" --email j@example.org --category employee '
              f'{shell.as_("vperkins")}')
    shell.enrol("jdoe", by="vperkins")
    assert keyring_findings(shell, "keyring") == []
    shell.run(f"delegate add jdoe --all {shell.as_('vperkins')}")  # a delegate approves too
    assert len(keyring_findings(shell, "keyring")) == 1


def test_the_recorded_version_edited_in_the_file_refuses_every_change(org: Shell) -> None:
    # To pass a copy off as up to date with the store.
    behind_the_log(org.db, "UPDATE settings SET value = '999' WHERE key = ?",
                   params=(chain_head.VERSION_SETTING,))
    result = org.run(f"{ADD} {org.as_('vperkins')}", expect=3)
    assert "settings" in one_line_error(result)
    assert "audit_head_version" in org.run("audit verify", expect=1).stdout
