"""Every command's JSON output matches its schema in schemas/.

One register with some of everything (grants in every status, both kinds of delegation
scope, an open session, MFA none/pending/confirmed) is built through the command line, and
each command's `--format json` output is validated against `schemas/<command>.schema.json`.
The schemas are strict (no extra keys, closed sets as enums, ids and times as patterns), and
the negative tests below prove it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest

from tests.support import commands
from tests.support.behind import behind_the_log
from tests.support.schemas import SCHEMA_DIR, load_schema, validate_data, validate_output
from tests.support.shell import Shell

# Every schema this module validates real output against. A new schema must be added here
# (and exercised below), or to EXERCISED_ELSEWHERE with the test file that exercises it.
EXERCISED = (
    "person-list",
    "person-show",
    "account-list",
    "account-show",
    "grant-list",
    "grant-show",
    "delegate-list",
    "whoami",
    "audit-log",
    "audit-verify",
    "audit-head",
    "authority-rules",
)
EXERCISED_ELSEWHERE = {"platform-catalogue": "tests/test_catalogue.py",
                       "cred-list": "tests/cli/test_credentials.py"}
# Commands that print JSON without a --format option.
ALWAYS_JSON = ("audit-head",)

REPO = Path(__file__).resolve().parents[2]


def check(shell: Shell, schema: str, command: str, *, expect: int = 0) -> Any:
    """Run `command --format json`, validate its stdout against `schema`, return the data."""
    assert schema in EXERCISED, f"add {schema!r} to EXERCISED"
    suffix = "" if schema in ALWAYS_JSON else " --format json"
    result = shell.run(command + suffix, expect=expect)
    return validate_output(schema, result.stdout)


# -- the register ----------------------------------------------------------------------------

@pytest.fixture
def full(org: Shell) -> Shell:
    """InterAct with some of everything, and vperkins logged in.

    People: vperkins (ceo, MFA confirmed), spatel (trustee, confirmed), jdoe (employee, no
    MFA), amiller (volunteer with manager and start date, MFA pending), bkhan (employee,
    confirmed, a delegate).
    Accounts: instagram-main (delegated, totp), x-main (url, recovery email, security key),
    whatsapp-youth (messaging group with overseer and recovery phone, MFA unknown),
    bluesky-main (shared login, sms).
    Grants: G-0001 active (expires, board minute, ceo); G-0002 pending; G-0003 revoked
    (trustee); G-0004 declined; G-0005 expired (approved by delegate D-0001); G-0006 active,
    approved through a session.
    Delegations: D-0001 for two accounts until 2099; D-0002 for all accounts, revoked.
    """
    sh, as_ = org, org.as_
    sh.run(f'person add amiller --name "Al Miller" --email a@example.org --category volunteer '
           f'--manager jdoe --start 2025-01-06 {as_("vperkins")}')
    sh.run(f'person add bkhan --name "Bo Khan" --email b@example.org --category employee '
           f'--title "Comms Officer" {as_("vperkins")}')
    sh.enrol("bkhan", by="vperkins")
    sh.run(f"mfa enrol amiller {as_('vperkins')}")  # invited,
    sh.run("mfa enrol amiller --as amiller")  # enrolled but left unconfirmed: pending
    sh.run(f"account add x-main --platform x --handle @interact_x --owner vperkins "
           f"--purpose News --url https://x.com/interact --recovery-email r@example.org "
           f"--mfa security-key {as_('spatel')}")
    sh.run(f'account add whatsapp-youth --platform whatsapp --handle "Youth group" '
           f'--owner vperkins --purpose "Youth chat" --kind messaging-group --overseer jdoe '
           f'--recovery-phone "+44 7700 900123" {as_("spatel")}')
    sh.run(f"account add bluesky-main --platform bluesky --handle @interact.bsky.social "
           f"--owner spatel --purpose News --access shared-login --mfa sms {as_('vperkins')}")

    sh.run(f'grant add jdoe instagram-main --role editor --reason "Posts youth events" '
           f'--expires 2099-12-31 --board-minute "BM 2026/04" {as_("vperkins")}')
    sh.run(f'grant request amiller instagram-main --role analyst --reason "Monthly reports" '
           f'{as_("vperkins")}')
    sh.run(f'grant add bkhan x-main --role admin --reason "Comms lead" {as_("spatel")}')
    sh.run(f'grant revoke G-0003 --reason "Moved team" {as_("vperkins")}')
    sh.run(f'grant request amiller x-main --role editor --reason "Cover" {as_("vperkins")}')
    sh.run(f'grant decline G-0004 --reason "Not needed" {as_("spatel")}')
    sh.run(f"delegate add bkhan --account instagram-main --account x-main --until 2099-01-01 "
           f"{as_('vperkins')}")
    tomorrow = (sh.clock.now + dt.timedelta(days=1)).date().isoformat()
    sh.run(f'grant request jdoe x-main --role editor --reason "Cover for a week" '
           f'--expires {tomorrow} {as_("vperkins")}')
    sh.run(f"grant approve G-0005 {as_('bkhan')}")
    sh.run(f"delegate add jdoe --all {as_('vperkins')}")
    sh.run(f'delegate revoke D-0002 --reason "Project over" {as_("spatel")}')

    sh.clock.advance(2 * 24 * 3600)  # G-0005 is now past its last day
    sh.run(f"login --as vperkins --otp {sh.code('vperkins')}")
    sh.run('grant add spatel bluesky-main --role member --reason "Board posts"')
    return sh


# -- real output against the schemas ---------------------------------------------------------

def test_person_list_and_show(full: Shell) -> None:
    people = check(full, "person-list", "person list")
    assert {p["id"]: p["mfa"] for p in people} == {
        "amiller": "pending", "bkhan": "confirmed", "jdoe": "none", "spatel": "confirmed",
        "vperkins": "confirmed",
    }
    assert check(full, "person-list", "person list --status active --category employee")
    assert check(full, "person-list", "person list --status left") == []

    for person, state in [("vperkins", "confirmed"), ("amiller", "pending"),
                          ("bkhan", "confirmed")]:
        shown = check(full, "person-show", f"person show {person}")
        assert shown["mfa"]["status"] == state
    assert [g["id"] for g in check(full, "person-show", "person show amiller")["grants"]] \
        == ["G-0002"]


def test_person_show_without_mfa(org: Shell) -> None:
    check(org, "person-show", "person show jdoe")


def test_account_list_and_show(full: Shell) -> None:
    accounts = check(full, "account-list", "account list")
    assert [a["id"] for a in accounts] == ["bluesky-main", "instagram-main", "whatsapp-youth",
                                           "x-main"]
    assert check(full, "account-list", "account list --platform x --status active")
    assert check(full, "account-list", "account list --status archived") == []
    for account in ("instagram-main", "x-main", "whatsapp-youth", "bluesky-main"):
        check(full, "account-show", f"account show {account}")


def test_grant_list_and_show(full: Shell) -> None:
    grants = check(full, "grant-list", "grant list")
    assert {g["id"]: g["status"] for g in grants} == {
        "G-0001": "active", "G-0002": "pending", "G-0003": "revoked", "G-0004": "declined",
        "G-0005": "expired", "G-0006": "active",
    }
    assert {g["authority"] for g in grants} == {"ceo", "trustee", "delegation:D-0001", None}
    assert any(g["verified_by"].startswith("session S-") for g in grants if g["verified_by"])
    for status in ("pending", "active", "declined", "revoked", "expired"):
        listed = check(full, "grant-list", f"grant list --status {status}")
        assert listed and {g["status"] for g in listed} == {status}
    check(full, "grant-list", "grant list --person amiller --account x-main")
    for grant in grants:
        shown = check(full, "grant-show", f"grant show {grant['id']}")
        assert shown == grant


def test_delegate_list(full: Shell) -> None:
    current = check(full, "delegate-list", "delegate list")
    assert [(d["id"], d["all_accounts"], d["in_force"]) for d in current] == [
        ("D-0001", False, True)]
    everything = check(full, "delegate-list", "delegate list --all")
    assert [(d["id"], d["all_accounts"], d["in_force"]) for d in everything] == [
        ("D-0001", False, True), ("D-0002", True, False)]
    check(full, "delegate-list", "delegate list --person jdoe --all")


def test_whoami_with_a_session(full: Shell) -> None:
    info = check(full, "whoami", "whoami")
    assert (info["person"], info["name"]) == ("vperkins", "Vickie Perkins")


def test_whoami_without_a_session(shell: Shell) -> None:
    check(shell, "whoami", "whoami")


def test_audit_log_verify_and_head(full: Shell, tmp_path: Path) -> None:
    events = check(full, "audit-log", "audit log")
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {"grant.expire", "person.add", "session.open"} <= {e["action"] for e in events}
    assert len(check(full, "audit-log", "audit log --limit 3")) == 3
    assert check(full, "audit-log", "audit log --action grant --subject G-0001")

    verdict = check(full, "audit-verify", "audit verify")
    assert verdict["ok"] is True and verdict["events_checked"] == len(events)

    head = check(full, "audit-head", "audit head")
    assert (head["seq"], head["at"]) == (events[-1]["seq"], events[-1]["at"])
    anchor = tmp_path / "head.json"
    full.run(f"audit head -o {anchor}")
    validate_output("audit-head", anchor.read_text(encoding="utf-8"))
    anchored = check(full, "audit-verify", f"audit verify --anchor {anchor}")
    assert anchored["ok"] is True and anchored["anchored"] is True


def test_audit_verify_of_a_tampered_log(org: Shell) -> None:
    behind_the_log(org.db, "UPDATE audit SET details = '{\"name\":\"Mallory\"}' WHERE seq = 5")
    verdict = check(org, "audit-verify", "audit verify", expect=1)
    assert (verdict["ok"], verdict["bad_seq"]) == (False, 5)


def test_audit_verify_of_a_register_changed_behind_the_log(org: Shell) -> None:
    behind_the_log(org.db, "UPDATE people SET category = 'trustee' WHERE id = 'jdoe'")
    verdict = check(org, "audit-verify", "audit verify", expect=1)
    assert (verdict["ok"], verdict["bad_seq"]) == (False, None)
    assert verdict["state_findings"] == [{"table": "people", "row": "jdoe",
                                          "problem": "changed behind the log (it fails its seal)"}]


def test_authority_rules(shell: Shell) -> None:
    rules = check(shell, "authority-rules", "authority rules")
    assert {"grant.approve", "person.update", "delegation.add"} <= {r["action"] for r in rules}


# -- the schemas themselves ------------------------------------------------------------------

def _schema_names() -> list[str]:
    return sorted(path.name.removesuffix(".schema.json")
                  for path in SCHEMA_DIR.glob("*.schema.json"))


@pytest.mark.parametrize("name", _schema_names())
def test_schema_is_valid_and_exercised(name: str) -> None:
    schema = load_schema(name)  # runs check_schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("title") and schema.get("description")
    if name in EXERCISED_ELSEWHERE:
        tester = REPO / EXERCISED_ELSEWHERE[name]
        assert f"{name}.schema.json" in tester.read_text(encoding="utf-8")
        return
    if name not in EXERCISED:
        assert _validated_elsewhere(name), f"schemas/{name}.schema.json is not exercised"
    assert schema["$id"] == f"https://accessgov.example/schemas/{name}.schema.json"
    assert "$ref" not in json.dumps(schema).replace('"$ref": "#/', ""), "no cross-file $ref"


def _validated_elsewhere(name: str) -> bool:
    """A test file outside this one validates real output against the schema by name."""
    call = f'validate_output("{name}"'
    return any(call in path.read_text(encoding="utf-8")
               for path in (REPO / "tests").rglob("*.py") if path.name != Path(__file__).name)


def test_every_exercised_schema_exists() -> None:
    assert set(EXERCISED) <= set(_schema_names())


def _json_commands() -> Iterator[str]:
    """`group-command` for every command that has a --format with a json choice."""
    for path, command in commands.leaves():
        for param in command.params:
            if (isinstance(param, click.Option) and "--format" in param.opts
                    and isinstance(param.type, click.Choice) and "json" in param.type.choices):
                yield "-".join(path)


def test_every_command_that_prints_json_has_a_schema() -> None:
    printing = {*_json_commands(), *ALWAYS_JSON}
    assert {"grant-list", "whoami", "audit-verify"} <= printing  # the walk found them
    missing = sorted(printing - set(_schema_names()))
    assert not missing, f"commands printing JSON without a schema in schemas/: {missing}"


# -- the schemas are strict ------------------------------------------------------------------

GRANT = {
    "id": "G-0001", "person": "jdoe", "person_name": "Jo Doe", "account": "instagram-main",
    "platform": "instagram", "role": "editor", "reason": "Posts youth events",
    "status": "active", "requested_by": "vperkins", "requested_at": "2026-11-25T14:27:48Z",
    "expires": "2099-12-31", "decision": "approved", "decided_by": "vperkins",
    "authority": "ceo", "board_minute": "BM 2026/04", "mfa_verified": True,
    "verified_by": "session S-0001", "decided_at": "2026-11-25T14:27:48Z", "revoked_by": None,
    "revoked_at": None, "revoke_reason": None, "approval_note": None,
}
PENDING = GRANT | dict.fromkeys(("decision", "decided_by", "authority", "board_minute",
                                 "mfa_verified", "verified_by", "decided_at")) | {
    "status": "pending"}
PERSON = {
    "id": "jdoe", "name": "Jo Doe", "email": "j@example.org", "category": "employee",
    "title": None, "manager": None, "status": "active", "start_date": None, "leave_date": None,
    "mfa": "none",
}
ACCOUNT = {
    "id": "instagram-main", "platform": "instagram", "handle": "@interact", "url": None,
    "purpose": "Events", "owner": "vperkins", "kind": "social", "access": "delegated",
    "mfa_method": "totp", "mfa_verified_on": "2026-11-25", "overseer": None,
    "status": "active", "active_grants": 1,
}
DELEGATION = {
    "id": "D-0001", "delegate": "bkhan", "all_accounts": False, "granted_by": "vperkins",
    "mfa_verified": True, "verified_by": "totp code", "valid_from": "2026-11-25",
    "valid_until": None, "created_at": "2026-11-25T14:30:48Z", "revoked_by": None,
    "revoked_at": None, "revoke_reason": None, "accounts": ["instagram-main"],
    "in_force": True,
}
WHOAMI = {"session": "S-0001", "person": "vperkins", "name": "Vickie Perkins",
          "opened_at": "2026-11-25T14:32:18Z", "expires_at": "2026-11-25T14:47:18Z",
          "verified_by": "totp code", "register": "/tmp/register.db"}
NO_SESSION = dict.fromkeys(WHOAMI) | {"register": "/tmp/register.db"}
VERIFIED = {"ok": True, "org": "InterAct", "events_checked": 25, "head_seq": 25,
            "head_mac": "a" * 64, "anchored": False, "bad_seq": None, "problem": None,
            "rows_checked": 30, "state_findings": [], "rolled_back": None, "time_findings": [],
            "clock_acknowledged": []}
HEAD = {"org_slug": "interact", "seq": 25, "at": "2026-11-25T14:32:28Z", "mac": "a" * 64}
EVENT = {"seq": 1, "at": "2026-11-25T14:22:18Z", "actor": "setup", "action": "person.add",
         "subject": "vperkins", "details": {"name": "Vickie Perkins", "category": "ceo"}}

VALID: list[tuple[str, Any]] = [
    ("grant-list", [GRANT, PENDING]), ("grant-show", GRANT), ("person-list", [PERSON]),
    ("account-list", [ACCOUNT]), ("delegate-list", [DELEGATION]), ("whoami", WHOAMI),
    ("whoami", NO_SESSION), ("audit-verify", VERIFIED), ("audit-head", HEAD),
    ("audit-log", [EVENT]),
]


@pytest.mark.parametrize(("schema", "document"), VALID,
                         ids=[f"{schema}-{n}" for n, (schema, _) in enumerate(VALID)])
def test_the_strictness_samples_are_valid(schema: str, document: Any) -> None:
    validate_data(schema, document)


def _set(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda item: item.update(changes)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda item: item.pop(key)


MUTATIONS: list[tuple[str, Any, Callable[[dict[str, Any]], None]]] = [
    ("grant-list", [GRANT], _set(approved_by_board=True)),  # an extra key
    ("grant-list", [GRANT], _set(status="approved")),
    ("grant-list", [GRANT], _set(role="owner")),
    ("grant-list", [GRANT], _set(mfa_verified=1)),  # a boolean as 0/1
    ("grant-list", [GRANT], _drop("expires")),  # nullable keys are still always present
    ("grant-list", [GRANT], _set(id="G-1")),
    ("grant-list", [GRANT], _set(requested_at="2026-11-25T14:27:48+00:00")),
    ("grant-list", [GRANT], _set(expires="31/12/2099")),
    ("grant-list", [GRANT], _set(authority="director")),
    ("grant-list", [GRANT], _set(verified_by="totp")),
    ("grant-list", [GRANT], _set(revoked_at="2026-11-26T09:00:00Z")),  # but still active
    ("grant-list", [GRANT], _set(status="revoked")),  # without who, when and why
    ("grant-list", [GRANT], _set(status="declined")),  # but the decision says approved
    ("grant-list", [PENDING], _set(decided_by="vperkins")),  # undecided, yet decided by
    ("grant-list", [PENDING], _set(status="active", decision="declined",
                                   decided_by="spatel", authority="trustee",
                                   mfa_verified=True, decided_at="2026-11-26T09:00:00Z")),
    ("grant-show", GRANT, _set(status="")),
    ("grant-show", GRANT, _set(person_name=None)),
    ("person-list", [PERSON], _set(category="staff")),
    ("person-list", [PERSON], _set(mfa="enrolled")),
    ("person-list", [PERSON], _set(start_date="2026-1-5")),
    ("account-list", [ACCOUNT], _set(access="shared")),
    ("account-list", [ACCOUNT], _set(mfa_method="passkey")),
    ("account-list", [ACCOUNT], _set(mfa_method="unknown")),  # yet verified on a date
    ("account-list", [ACCOUNT], _set(active_grants="1")),
    ("delegate-list", [DELEGATION], _set(all_accounts=1)),
    ("delegate-list", [DELEGATION], _set(accounts=[])),  # a scope of nothing
    ("delegate-list", [DELEGATION], _set(all_accounts=True)),  # yet a list of accounts
    ("delegate-list", [DELEGATION], _set(revoked_at="2026-11-26T09:00:00Z", revoked_by="spatel",
                                         revoke_reason="Over")),  # revoked, yet in force
    ("whoami", WHOAMI, _set(session="1")),
    ("whoami", NO_SESSION, _set(person="vperkins")),  # no session, yet a person
    ("whoami", WHOAMI, _set(token="secret")),
    ("audit-verify", VERIFIED, _set(bad_seq=3)),  # intact, yet a bad event
    ("audit-verify", VERIFIED, _set(ok=False)),  # tampered, yet no bad event or head kept
    ("audit-verify", VERIFIED, _set(rolled_back="restored from a copy?")),  # yet ok
    ("audit-verify", VERIFIED, _set(time_findings=[{"seq": 3, "at": "2076-01-01T00:00:00Z",
                                                    "problem": "in the future"}])),  # yet ok
    ("audit-verify", VERIFIED, _set(clock_acknowledged=[{"seq": 3}])),  # without time, problem
    ("audit-head", HEAD, _set(mac="A" * 64)),
    ("audit-head", HEAD, _set(seq=0)),
    ("audit-log", [EVENT], _set(details={"Name": "x"})),
    ("audit-log", [EVENT], _set(details={"note": None})),
    ("audit-log", [EVENT], _set(action="add")),
]


@pytest.mark.parametrize(("schema", "document", "mutate"), MUTATIONS,
                         ids=[f"{schema}-{n}" for n, (schema, *_) in enumerate(MUTATIONS)])
def test_schemas_reject_what_they_do_not_describe(
    schema: str, document: Any, mutate: Callable[[dict[str, Any]], None],
) -> None:
    broken = copy.deepcopy(document)
    mutate(broken[0] if isinstance(broken, list) else broken)
    with pytest.raises(jsonschema.ValidationError):
        validate_data(schema, broken)
