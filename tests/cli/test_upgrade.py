"""A register written before row seals existed (schema 2) is upgraded and sealed once.

Its records are as the old accessgov left them: no seals, audit events with no row lists.
The first change made with the audit key seals every record in one `register.seal` event;
after that, an unsealed record is one written behind the log, and is never sealed for it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from accessgov.audit import chain
from accessgov.db import sqlite as register_module
from accessgov.db.register import Register
from tests.support.shell import Shell, one_line_error

AT = "2026-01-05T09:00:00Z"


@pytest.fixture
def old_register(tmp_path: Path, store: dict[str, object]) -> Shell:
    """A schema-2 register as accessgov 0.1 wrote it: the CEO and a volunteer, no MFA yet."""
    from tests.support.memory_backend import MemoryBackend

    def factory(config: object) -> MemoryBackend:
        return MemoryBackend("interact", store)  # type: ignore[arg-type]

    db = tmp_path / "data" / "register.db"
    db.parent.mkdir(mode=0o700)
    key_text = chain.new_key()
    factory(None).write(chain.KEY_PATH, key_text, expect_version=0)
    key = chain.decode_key(key_text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(register_module, "LATEST_VERSION", 2)
        old = Register.create(db)
    events = [("setup", "register.init", "interact", {"org": "InterAct", "backend": "memory"}),
              ("setup", "person.add", "vperkins", {"name": "V", "category": "ceo"}),
              ("setup", "person.add", "kim", {"name": "Kim", "category": "volunteer"})]
    with old.transaction():
        for name, value in {"backend": "memory", "backend_org_slug": "interact", "org": "InterAct",
                            "org_slug": "interact", "created_at": AT,
                            "audit_key_version": "1"}.items():
            old.set_setting(name, value)
        for person, category in (("vperkins", "ceo"), ("kim", "volunteer")):
            old.insert("people", {"id": person, "name": person, "email": f"{person}@x.org",
                                  "category": category, "status": "active", "created_at": AT,
                                  "updated_at": AT})
        prev = chain.GENESIS
        for seq, (actor, action, subject, details) in enumerate(events, start=1):
            text = chain.canonical_details(details)
            mac = chain.compute_mac(key, seq, AT, actor, action, subject, text, prev)
            old.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (seq, AT, actor, action, subject, text, prev, mac))
            prev = mac
    old.close()
    return Shell(db, factory)


def test_the_first_change_seals_the_old_records_once(old_register: Shell) -> None:
    sh = old_register
    assert "intact" in sh.run("audit verify").stdout  # migrated; the old chain still holds
    sh.run("person add jdoe --name Jo --email j@x.org --category employee")  # still set-up
    events = json.loads(sh.run("audit log --format json").stdout)
    assert [e["action"] for e in events][-2:] == ["register.seal", "person.add"]
    assert events[-2]["details"]["rows_sealed"] >= 8  # the settings and the two people
    report = json.loads(sh.run("audit verify --format json").stdout)
    assert report["ok"] and report["rows_checked"] >= 9


def test_after_the_seal_an_unsealed_record_is_never_sealed_for_an_intruder(
        old_register: Shell) -> None:
    sh = old_register
    sh.run("person add jdoe --name Jo --email j@x.org --category employee")
    with sqlite3.connect(sh.db) as conn:
        conn.execute("INSERT INTO people (id, name, email, category, status, created_at, "
                     "updated_at) VALUES ('mallory', 'M', 'm@x.org', 'ceo', 'active', ?, ?)",
                     (AT, AT))
    conn.close()
    sh.run("person add ann --name Ann --email a@x.org --category volunteer")
    seals = [e for e in json.loads(sh.run("audit log --format json").stdout)
             if e["action"] == "register.seal"]
    assert len(seals) == 1
    report = json.loads(sh.run("audit verify --format json", expect=1).stdout)
    assert {"table": "people", "row": "mallory",
            "problem": "inserted behind the log (no event wrote it)"} in report["state_findings"]
    result = sh.run("mfa enrol mallory", expect=3)  # nothing trusts the forged CEO either
    assert "does not carry accessgov's seal" in one_line_error(result)
