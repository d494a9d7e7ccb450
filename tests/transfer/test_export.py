"""export: the whole register but its secrets, which import takes back unchanged."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from accessgov.initialise import initialise
from accessgov.secrets.config import BackendConfig
from tests.support.memory_backend import MemoryBackend
from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error


@pytest.fixture
def history(shared: Shell) -> Shell:
    """A register with a past: people who left, an archived account, delegations in force
    and revoked, and grants in every status, decided by the CEO, a trustee and a delegate."""
    sh, as_ = shared, shared.as_
    sh.run(f"person add amiller --name 'Al Miller' --email a@example.org --category volunteer "
           f"--manager jdoe --start 2025-01-06 --title 'Youth worker' {as_('vperkins')}")
    sh.run(f"person add bkhan --name 'Bo Khan' --email b@example.org --category employee "
           f"{as_('vperkins')}")
    sh.enrol("bkhan", by="vperkins")
    sh.run(f"account add x-main --platform x --handle @interact_x --owner vperkins "
           f"--purpose News --url https://x.com/interact --recovery-email r@example.org "
           f"--mfa security-key {as_('spatel')}")
    sh.run(f"account add wa-youth --platform whatsapp --handle 'Youth group' --owner vperkins "
           f"--purpose 'Youth chat' --kind messaging-group --overseer jdoe "
           f"--recovery-phone '+44 7700 900123' {as_('spatel')}")
    sh.run(f"account add old-blog --platform other --handle blog --owner vperkins "
           f"--purpose Blog {as_('spatel')}")
    sh.run(f"account archive old-blog --reason Closed {as_('vperkins')}")
    sh.run(f"delegate add bkhan --account instagram-main --account x-main --until 2099-01-01 "
           f"{as_('vperkins')}")
    sh.run(f"delegate add amiller --all {as_('vperkins')}")
    sh.run(f"delegate revoke D-0002 --reason 'Project over' {as_('spatel')}")
    sh.run(f'grant add jdoe instagram-main --role editor --reason "Youth events" '
           f'--expires 2099-12-31 --board-minute "BM 2026/04" {as_("vperkins")}')  # G-0002
    sh.run(f"grant request amiller instagram-main --role analyst --reason Reports "
           f"{as_('vperkins')}")  # G-0003, approved by the delegate
    sh.run(f"grant approve G-0003 {as_('bkhan')}")
    sh.run(f"grant request amiller x-main --role editor --reason Cover {as_('vperkins')}")
    sh.run(f"grant decline G-0004 --reason 'Not needed' {as_('spatel')}")  # declined
    tomorrow = (sh.clock.now + dt.timedelta(days=1)).date().isoformat()
    sh.run(f"grant add bkhan wa-youth --role member --reason Chat --expires {tomorrow} "
           f"{as_('spatel')}")  # G-0005, will expire
    sh.run(f"grant request bkhan x-main --role editor --reason Posts {as_('vperkins')}")
    sh.run(f"grant request jdoe x-main --role editor --reason Cover {as_('vperkins')}")
    sh.clock.advance(2 * 24 * 3600)
    sh.run(f"offboard start jdoe {as_('vperkins')}")  # left: G-0001/2 revoked, G-0007 withdrawn
    return sh


def test_export_writes_the_register_privately_and_matches_its_schema(history: Shell,
                                                                    tmp_path: Path) -> None:
    target = tmp_path / "out" / "register.json"
    target.parent.mkdir()
    result = history.run(f"export -o {target}")
    assert result.stdout == ""
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    data = validate_output("export", target.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    assert data["organisation"] == "InterAct"
    for section in ("people", "accounts", "delegations", "grants"):
        for record in data[section]:
            validate_output(f"import-{section}", json.dumps(record))
    assert {g["id"]: g["status"] for g in data["grants"]} == {
        "G-0001": "revoked", "G-0002": "revoked", "G-0003": "active", "G-0004": "declined",
        "G-0005": "expired", "G-0006": "pending", "G-0007": "revoked"}
    withdrawn = data["grants"][-1]
    assert (withdrawn["decided_by"], withdrawn["revoked_by"]) == (None, "vperkins")
    text = target.read_text(encoding="utf-8")
    assert "Tt-first-Canary-7731" not in text  # no secret, nor anything about one
    for absent in ('"seal', '"sealed_seq"', '"token_hash"', '"verified_by"', '"updated_at"',
                   '"credentials"', '"exposures"', '"password"'):
        assert absent not in text


def _new_register(tmp_path: Path) -> Shell:
    """An empty register of the same organisation, on its own store."""
    store: dict[str, object] = {}

    def factory(config: BackendConfig) -> MemoryBackend:
        return MemoryBackend(config.org_slug, store)  # type: ignore[arg-type]

    sh = Shell(tmp_path / "new" / "register.db", factory)
    initialise(sh.db, "InterAct", BackendConfig("memory", "interact"), factory).close()
    return sh


def test_export_import_export_gives_the_same_file(history: Shell, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    history.run(f"export -o {first}")

    new = _new_register(tmp_path)
    new.clock.now = history.clock.now
    # The Board enters itself and enrols, as in any new register.
    new.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    new.run('person add spatel --name "Sonal Patel" --email s@example.org --category trustee')
    new.enrol("vperkins")
    new.enrol("spatel", by="vperkins")
    # Each part by whoever may import it: nobody imports accounts they own or access for
    # themselves, and only the CEO imports delegations.
    for kind, who in (("people", "vperkins"), ("accounts", "spatel"),
                      ("delegations", "vperkins"), ("grants", "spatel")):
        new.run(f"import {first} --kind {kind} {new.as_(who)}")
    second = tmp_path / "second.json"
    new.run(f"export -o {second}")
    assert second.read_bytes() == first.read_bytes()
    assert new.run("audit verify").exit_code == 0

    # Importing it all once more changes nothing.
    before = dump(new.db)
    again = json.loads(new.run(f"import {first} --dry-run --format json --as spatel").stdout)
    assert again["added"] == {"people": 0, "accounts": 0, "delegations": 0, "grants": 0}
    assert dump(new.db) == before


def test_the_whole_file_at_once_needs_someone_who_may_import_every_row(
        history: Shell, tmp_path: Path) -> None:
    first = tmp_path / "first.json"
    history.run(f"export -o {first}")
    new = _new_register(tmp_path)
    new.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    new.enrol("vperkins")
    before = dump(new.db)
    result = new.run(f"import {first} --format json --board-minute 'BM 1' "
                     f"{new.as_('vperkins')}", expect=3)
    problems = validate_output("import", result.stdout)["problems"]  # type: ignore[index]
    assert {p["kind"] for p in problems} >= {"accounts"}
    assert "vperkins cannot make themselves the owner" in json.dumps(problems)
    assert one_line_error(result).endswith("nothing was imported")
    assert {k: v for k, v in dump(new.db).items() if k not in ("audit", "mfa")} == \
        {k: v for k, v in before.items() if k not in ("audit", "mfa")}


@pytest.mark.parametrize(("document", "message"), [
    ({"format": "something-else"}, "neither a JSON list of records nor a register"),
    ({"format": "accessgov-register", "version": 2}, "another version of accessgov export"),
    ({"format": "accessgov-register", "version": 1, "secrets": []}, "parts accessgov does "
                                                                     "not know: secrets"),
    ({"format": "accessgov-register", "version": 1, "people": {}}, "'people' must be a list"),
])
def test_a_file_that_is_not_an_export_is_refused(org: Shell, tmp_path: Path,
                                                 document: object, message: str) -> None:
    path = tmp_path / "register.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = org.run(f"import {path} --dry-run", expect=2)
    assert message in one_line_error(result)
