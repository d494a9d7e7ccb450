"""Backups and restores, as the CEO and a trustee use them (issue 14.4).

The CEO backs the register up; a laptop is lost, or the register is damaged; the Board decides
to restore, and a trustee puts the backup back. A restore is the one way a register behind the
secret store's record of its head is accepted again: any other copy put back stays refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

from tests.cli.test_clock_and_head import RESTORED, copy_of, put_back
from tests.support.behind import file_only
from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error

pytestmark = file_only("SQLite's online backup of the file; a register in PostgreSQL is "
                       "dumped with pg_dump and its restored copy checked with 'backup verify' "
                       "(tests/integration/test_several_administrators.py)")

ADD = "person add kim --name Kim --email k@example.org --category volunteer"


def take(sh: Shell, name: str = "monday.db") -> Path:
    target = sh.folder / "backups" / name
    target.parent.mkdir(exist_ok=True)
    result = sh.run(f"backup -o {target}")
    assert f"Backed up the register of InterAct to {target}" in result.stdout
    return target


def test_a_backup_is_a_private_copy_with_a_manifest_that_verifies(org: Shell) -> None:
    backup = take(org)
    manifest_file = Path(f"{backup}.manifest.json")
    for path in (backup, manifest_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    manifest = json.loads(manifest_file.read_text())
    live = dump(org.db)
    assert manifest["counts"]["people"] == len(live["people"]) == 3
    assert manifest["head_seq"] == len(live["audit"])
    assert not Path(f"{backup}-wal").exists()  # one file, whoever reads it

    result = org.run(f"backup verify {backup}")
    assert result.stdout.startswith(f"The backup {backup} (taken {manifest['taken_at']} by "
                                    "accessgov ")
    assert "is intact:" in result.stdout
    assert "as new as the secret store's record" in result.stdout
    data = validate_output("backup-verify",
                           org.run(f"backup verify {backup} --format json").stdout)
    assert data["ok"] is True and data["head_seq"] == manifest["head_seq"]
    assert manifest_file.read_text() == json.dumps(manifest, indent=2) + "\n"  # untouched


def test_a_backup_never_overwrites_and_says_so(org: Shell) -> None:
    backup = take(org)
    before = backup.read_bytes()
    message = one_line_error(org.run(f"backup -o {backup}", expect=2))
    assert "already exists" in message
    assert backup.read_bytes() == before


def test_a_backup_changed_afterwards_is_named(org: Shell) -> None:
    """Someone edits the backup with sqlite3 to credit themselves with access, and fixes the
    manifest's row count: the SHA-256 and the seals still say no."""
    backup = take(org)
    with sqlite3.connect(backup) as conn:
        conn.execute("UPDATE people SET category = 'trustee' WHERE id = 'jdoe'")
    conn.close()
    result = org.run(f"backup verify {backup}", expect=1)
    assert "cannot be trusted" in result.stdout
    assert "SHA-256" in result.stdout
    assert "people jdoe" in result.stdout
    refused = one_line_error(org.run(
        f"restore {backup} --board-minute 'BM 1' {org.as_('spatel')}", expect=2))
    assert "cannot be trusted" in refused


def test_a_backup_without_its_manifest_is_refused_plainly(org: Shell) -> None:
    backup = take(org)
    Path(f"{backup}.manifest.json").unlink()
    assert "no manifest beside the backup" in one_line_error(
        org.run(f"backup verify {backup}", expect=2))


def test_restore_is_the_boards_audited_act_and_moves_the_head(org: Shell) -> None:
    org.enrol("jdoe", by="vperkins")
    backup = take(org)
    org.run(f"{ADD} {org.as_('vperkins')}")
    org.run(f"person add lee --name Lee --email l@example.org --category volunteer "
            f"{org.as_('vperkins')}")
    head_before = len(dump(org.db)["audit"])
    verified = org.run(f"backup verify {backup}").stdout
    assert "2 event(s) after it" in verified

    # A member of staff may not restore; nothing changes, and the register is as it was.
    live_before = dump(org.db)
    refused = org.run(f"restore {backup} --board-minute 'BM 2026/12 item 2' {org.as_('jdoe')}",
                      expect=3)
    assert "can put the register back from a backup; jdoe is not" in one_line_error(refused)
    assert dump(org.db)["people"] == live_before["people"]
    assert not list(org.db.parent.glob("*.replaced-*"))
    attempt = json.loads(org.run("audit log --format json").stdout)[-1]
    assert (attempt["action"], attempt["actor"]) == ("refused", "jdoe")
    assert attempt["details"]["attempted"] == "register.restore"
    # The same refusal of a restore in place (pg_restore's case) is recorded as plainly.
    refused = org.run(f"restore --board-minute 'BM 2026/12 item 2' {org.as_('jdoe')}",
                      expect=3)
    assert "jdoe is not" in one_line_error(refused)
    attempt = json.loads(org.run("audit log --format json").stdout)[-1]
    assert (attempt["action"], attempt["actor"]) == ("refused", "jdoe")
    wrong = org.run(f"restore {backup} --board-minute 'BM 1' --as spatel --otp 000000",
                    expect=3)
    assert "code" in one_line_error(wrong)
    attempt = json.loads(org.run("audit log --format json").stdout)[-1]
    assert attempt["actor"] == "spatel"  # the wrong code counts towards her lock-out here

    result = org.run(f"restore {backup} --board-minute 'BM 2026/12 item 2' "
                     f"{org.as_('spatel')}")
    assert "Restored the register from" in result.stdout
    assert "event(s) recorded after it are not in the restored log" in result.stdout
    kept = list(org.db.parent.glob("*.replaced-*"))
    assert kept and "kept at" in result.stdout
    restored = dump(org.db)
    assert {row[0] for row in restored["people"]} == {"vperkins", "spatel", "jdoe"}
    event = json.loads(org.run("audit log --format json").stdout)[-1]
    assert event["action"] == "register.restore"
    assert event["actor"] == "spatel"
    assert event["details"]["board_minute"] == "BM 2026/12 item 2"
    assert event["details"]["store_head_before"] >= head_before
    assert event["details"]["events_not_restored"] >= 2
    assert stat.S_IMODE(os.stat(org.db).st_mode) == 0o600

    # The restored register works and verifies; the head record follows it.
    org.run(f"{ADD} {org.as_('vperkins')}")
    assert org.run("audit verify").stdout.startswith("The audit log of InterAct is intact")


def test_after_a_restore_any_other_copy_put_back_is_still_refused(org: Shell) -> None:
    """The restore moves the record to the restored register: the register from before the
    restore, put back by hand, is now the copy behind the record."""
    backup = take(org)
    org.run(f"{ADD} {org.as_('vperkins')}")
    before_restore = copy_of(org.db, org.folder / "before-restore")
    org.run(f"restore {backup} --board-minute 'BM 3' {org.as_('spatel')}")
    org.run(f"person add lee --name Lee --email l@example.org --category volunteer "
            f"{org.as_('vperkins')}")
    put_back(before_restore, org.db)
    assert RESTORED in one_line_error(org.run(f"person add max --name Max --email "
                                              f"m@example.org --category volunteer "
                                              f"{org.as_('vperkins')}", expect=3))
    assert RESTORED in org.run("audit verify", expect=1).stdout


def test_a_register_put_back_by_hand_is_refused_until_it_is_restored_in_place(
        org: Shell) -> None:
    """An administrator put last night's copy back with cp (or pg_restore): every change is
    refused, until a trustee records the restore, in place."""
    saved = copy_of(org.db, org.folder / "saved")
    org.run(f"{ADD} {org.as_('vperkins')}")
    put_back(saved, org.db)
    assert RESTORED in one_line_error(org.run(f"person add lee --name Lee --email "
                                              f"l@example.org --category volunteer "
                                              f"{org.as_('vperkins')}", expect=3))
    org.run(f"restore --board-minute 'BM 4' {org.as_('spatel')}")
    org.run(f"person add lee --name Lee --email l@example.org --category volunteer "
            f"{org.as_('vperkins')}")
    assert org.run("audit verify").stdout.startswith("The audit log of InterAct is intact")
