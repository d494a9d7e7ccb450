"""`accessgov check`: every rule of the policy, fired by the situation it is about, each
finding quoting the policy heading it enforces, and the exit code following the threshold."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from accessgov.governance.checks import registry as checks
from tests.governance.helpers import check, found, message, store_behaving
from tests.support.behind import approved_before_the_proxy_rule, behind_the_log
from tests.support.memory_backend import MemoryBackend
from tests.support.schemas import load_schema, validate_output
from tests.support.shell import Shell, dump, one_line_error

POLICY = Path(__file__).parent / "data" / "social-media-policy.txt"
SHARED_POLICY = Path(__file__).resolve().parents[3] / "shared" / "social-media-policy.txt"


# -- the rules themselves ------------------------------------------------------------------

def policy_lines() -> set[str]:
    return {line.strip() for line in POLICY.read_text(encoding="utf-8").splitlines()}


def test_every_heading_a_rule_cites_is_a_line_of_the_policy() -> None:
    lines = policy_lines()
    cited = {rule.heading for rule in checks.all_rules()}
    assert cited <= lines, cited - lines
    assert {"Access", "WhatsApp, Messaging Apps and Group Chats",
            "Monitoring and Reviewing"} <= cited


def test_every_heading_the_schemas_allow_is_a_line_of_the_policy() -> None:
    for schema in ("check", "check-rules", "review-export"):
        allowed = set(_heading_enum(load_schema(schema)))
        assert allowed and allowed <= policy_lines(), allowed - policy_lines()


def _heading_enum(schema: object) -> list[str]:
    """Every `heading` enum in a schema."""
    if isinstance(schema, dict):
        if "heading" in schema.get("properties", {}):
            return list(schema["properties"]["heading"]["enum"])
        return [h for value in schema.values() for h in _heading_enum(value)]
    if isinstance(schema, list):
        return [h for value in schema for h in _heading_enum(value)]
    return []


@pytest.mark.skipif(not SHARED_POLICY.is_file(), reason="the shared policy is not beside the "
                    "repository (a clean clone): the copy in tests/ is the reference")
def test_the_copy_of_the_policy_is_the_policy() -> None:
    assert POLICY.read_bytes() == SHARED_POLICY.read_bytes()


def test_rule_ids_are_unique_and_plain() -> None:
    rules = checks.all_rules()
    assert len({rule.id for rule in rules}) == len(rules)
    for rule in rules:
        assert re.fullmatch(r"[A-Z]{3}-\d{3}", rule.id)
        assert rule.severity in checks.SEVERITIES
        assert rule.title and rule.title[0].islower()


def test_list_rules_prints_every_rule_with_its_heading(shell: Shell) -> None:
    listed = validate_output("check-rules", shell.run("check --list-rules --format json").stdout)
    assert [r["rule"] for r in listed] == [rule.id for rule in checks.all_rules()]  # type: ignore[union-attr]
    table = shell.run("check --list-rules").stdout
    for rule in checks.all_rules():
        assert rule.id in table
    assert "WhatsApp, Messaging Apps and Group Chats" in table


# -- a new register, thresholds and formats --------------------------------------------------

def test_a_new_register_is_told_to_review_its_policy_and_its_access(org: Shell) -> None:
    data = check(org)
    assert found(data) == {"REV-002", "POL-001", "SEC-005"}
    assert data["store_checked"] is True and data["counts"]["medium"] == 3
    assert all(f["heading"] in policy_lines() for f in data["findings"])
    assert "no review has been recorded" in message(data, "POL-001", "policy")


def test_the_threshold_filters_findings_and_decides_the_exit_code(org: Shell) -> None:
    assert check(org, "--severity medium")["findings"]
    data = check(org, "--severity high")
    assert data["findings"] == [] and data["threshold"] == "high"
    org.run("check --severity high", expect=0)
    result = org.run("check", expect=1)
    assert "REV-002" in result.stdout and "Monitoring and Reviewing" in result.stdout


def test_findings_in_csv_and_markdown(org: Shell) -> None:
    csv_text = org.run("check --format csv", expect=1).stdout
    assert csv_text.splitlines()[0] == \
        "severity,rule,title,subject,message,heading,cyber_essentials"
    assert len(csv_text.splitlines()) == 4
    markdown = org.run("check --format md", expect=1).stdout
    assert markdown.startswith("# Policy check\n")
    assert "| severity | rule    |" in markdown


def test_check_is_a_read_and_writes_a_private_file(org: Shell, tmp_path: Path) -> None:
    before = dump(org.db)
    target = tmp_path / "findings.json"
    org.run(f"check --format json -o {target}", expect=1)
    assert dump(org.db) == before
    validate_output("check", target.read_text(encoding="utf-8"))
    assert target.stat().st_mode & 0o777 == 0o600


def test_check_into_a_missing_folder_is_one_line(org: Shell, tmp_path: Path) -> None:
    result = org.run(f"check -o {tmp_path / 'nowhere' / 'f.csv'}", expect=2)
    assert "does not exist" in one_line_error(result)


# -- approvals --------------------------------------------------------------------------------

def test_an_approval_by_someone_the_grantee_added_is_a_sock_puppet(org: Shell) -> None:
    """vperkins added tkhan to the register; tkhan may not approve vperkins's access, and an
    approval recorded before that rule is a finding."""
    org.run(f'person add tkhan --name "T Khan" --email t@example.org --category trustee '
            f'--board-minute "BM 2026/07 item 1" {org.as_("vperkins")}')
    org.enrol("tkhan", by="spatel")
    refused = org.run(f"grant add vperkins instagram-main --role admin --reason Owner "
                      f"{org.as_('tkhan')}", expect=3)
    assert "tkhan was put in place by vperkins" in one_line_error(refused)
    approved_before_the_proxy_rule(org, "G-0001", "vperkins", "instagram-main", "tkhan",
                                   "trustee")
    data = check(org)
    assert found(data, "ACC-004") == {"G-0001"}
    assert "vperkins had added tkhan to the register" in message(data, "ACC-004", "G-0001")
    assert "ACC-002" not in found(data)


def test_an_approval_by_someone_the_grantee_enrolled_before_invitations(org: Shell) -> None:
    """Before invitations existed, an approver enrolled others' MFA and saw their seeds."""
    org.run(f"grant add jdoe instagram-main --role editor --reason x {org.as_('spatel')}")
    behind_the_log(org.db, "UPDATE mfa SET enrolled_by = 'jdoe' WHERE person = 'spatel'")
    data = check(org)
    assert found(data, "ACC-004") == {"G-0001"}
    assert "jdoe had enrolled spatel's MFA" in message(data, "ACC-004", "G-0001")


def test_an_approval_under_a_delegation_the_grantee_gave(org: Shell) -> None:
    org.run('person add bkhan --name "Bo Khan" --email b@example.org --category employee '
            f'{org.as_("spatel")}')
    org.enrol("bkhan", by="spatel")
    org.run(f"delegate add bkhan --account instagram-main {org.as_('vperkins')}")
    refused = org.run(f"grant add vperkins instagram-main --role admin --reason x "
                      f"{org.as_('bkhan')}", expect=3)
    assert "bkhan was put in place by vperkins" in one_line_error(refused)
    approved_before_the_proxy_rule(org, "G-0001", "vperkins", "instagram-main", "bkhan",
                                   "delegation:D-0001")
    data = check(org)
    assert "vperkins had given bkhan delegation D-0001" in message(data, "ACC-004", "G-0001")


def test_approvals_without_authority_or_by_the_grantee(org: Shell) -> None:
    sh = org
    sh.run(f"grant add jdoe instagram-main --role editor --reason x {sh.as_('vperkins')}")
    sh.run(f"account add x-main --platform x --handle @ix --owner vperkins --purpose News "
           f"--mfa totp {sh.as_('spatel')}")
    sh.run(f"grant add spatel x-main --role admin --reason x {sh.as_('vperkins')}")
    sh.run(f"grant add jdoe x-main --role editor --reason x {sh.as_('vperkins')}")
    # Records an import or an older accessgov could leave: checked against the history.
    behind_the_log(sh.db, "UPDATE approvals SET authority = 'trustee' WHERE grant_id = 'G-0001'")
    behind_the_log(sh.db, "UPDATE approvals SET approver = 'spatel', authority = 'trustee' "
                   "WHERE grant_id = 'G-0002'")
    behind_the_log(sh.db, "UPDATE approvals SET authority = 'owner' WHERE grant_id = 'G-0003'")
    data = check(sh)
    assert found(data, "ACC-002") == {"G-0001", "G-0003"}
    assert "vperkins was the CEO then, not a trustee" in message(data, "ACC-002", "G-0001")
    assert "'owner' is not an approver's authority" in message(data, "ACC-002", "G-0003")
    assert found(data, "ACC-003") == {"G-0002"}


def test_a_delegation_that_did_not_cover_the_account_or_was_not_in_force(org: Shell) -> None:
    sh = org
    sh.run('person add bkhan --name "Bo Khan" --email b@example.org --category employee '
           f'{sh.as_("vperkins")}')
    sh.enrol("bkhan", by="spatel")
    sh.run(f"account add x-main --platform x --handle @ix --owner spatel --purpose News "
           f"--mfa totp {sh.as_('vperkins')}")
    sh.run(f"delegate add bkhan --account x-main {sh.as_('vperkins')}")
    sh.run(f"grant add jdoe x-main --role editor --reason x {sh.as_('bkhan')}")
    sh.run(f"grant add jdoe instagram-main --role editor --reason x {sh.as_('vperkins')}")
    behind_the_log(sh.db, "UPDATE approvals SET approver = 'bkhan', "
                   "authority = 'delegation:D-0001' WHERE grant_id = 'G-0002'")
    assert check(sh)["findings"]
    data = check(sh)
    assert found(data, "ACC-002") == {"G-0002"}
    assert "D-0001 does not cover instagram-main" in message(data, "ACC-002", "G-0002")
    sh.run(f"delegate revoke D-0001 --reason over {sh.as_('spatel')}")
    later = (sh.clock.now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    behind_the_log(sh.db, "UPDATE approvals SET at = ? WHERE grant_id = 'G-0001'",
                   params=(later,))
    assert "was not in force" in message(check(sh), "ACC-002", "G-0001")


def test_an_approval_stays_valid_when_the_approver_later_steps_down(org: Shell) -> None:
    org.run(f"grant add jdoe instagram-main --role editor --reason x {org.as_('spatel')}")
    org.run(f"person update spatel --category employee --board-minute 'BM 9' "
            f"{org.as_('vperkins')}")
    assert "ACC-002" not in found(check(org))


def test_a_grant_nobody_approved(org: Shell) -> None:
    org.run(f"grant add jdoe instagram-main --role editor --reason x {org.as_('vperkins')}")
    behind_the_log(org.db, "DELETE FROM approvals WHERE grant_id = 'G-0001'")
    data = check(org)
    assert found(data, "ACC-001") == {"G-0001"}
    assert "no record of anyone approving it" in message(data, "ACC-001", "G-0001")


def test_an_approver_without_mfa(org: Shell) -> None:
    org.run(f"delegate add jdoe --account instagram-main {org.as_('vperkins')}")
    data = check(org)
    assert found(data, "ACC-005") == {"jdoe"}
    assert "a delegate of the CEO" in message(data, "ACC-005", "jdoe")


# -- grants, accounts, messaging groups ---------------------------------------------------------

def test_a_leaver_holding_a_grant_and_a_grant_past_its_end(org: Shell) -> None:
    sh = org
    tomorrow = (sh.clock.now + dt.timedelta(days=1)).date().isoformat()
    sh.run(f"grant add jdoe instagram-main --role editor --reason x --expires {tomorrow} "
           f"{sh.as_('vperkins')}")
    sh.clock.advance(3 * 24 * 3600)
    assert found(check(sh), "GRT-002") == {"G-0001"}
    behind_the_log(sh.db, "UPDATE people SET status = 'left', leave_date = '2026-01-31' "
                   "WHERE id = 'jdoe'")
    data = check(sh)
    assert found(data, "GRT-001") == {"G-0001"}
    assert "Jo Doe (jdoe) left on 2026-01-31" in message(data, "GRT-001", "G-0001")


def test_account_security(org: Shell) -> None:
    sh = org
    for n, mfa in enumerate(("none", "sms", "unknown", "security-key")):
        sh.run(f"account add acct-{n} --platform facebook --handle @f{n} --owner spatel "
               f"--purpose News --mfa {mfa} {sh.as_('vperkins')}")
    data = check(sh)
    assert found(data, "SEC-001") == {"acct-0"}
    assert found(data, "SEC-002") == {"acct-1"}
    assert found(data, "SEC-003") == {"acct-2"}
    assert "acct-3" not in {f["subject"] for f in data["findings"] if f["rule"] < "SEC-004"}


def test_admins_owners_and_recovery_contacts(org: Shell) -> None:
    sh = org
    sh.run(f'person add amiller --name "Al Miller" --email al@example.org --category '
           f'volunteer {sh.as_("vperkins")}')
    sh.run(f"account add fb-main --platform facebook --handle @f --owner spatel --purpose News "
           f"--mfa totp --recovery-email AL@example.org {sh.as_('vperkins')}")
    sh.run(f"account add bsky --platform bluesky --handle @b --owner spatel --purpose News "
           f"--mfa totp --access shared-login {sh.as_('vperkins')}")
    sh.run(f"grant add jdoe fb-main --role admin --reason x {sh.as_('vperkins')}")
    data = check(sh)
    # Shared logins have no admins to count; instagram-main has none, fb-main only one.
    assert found(data, "SEC-005") == {"fb-main", "accounts with no admin"}
    assert "only one active admin (jdoe)" in message(data, "SEC-005", "fb-main")
    assert message(data, "SEC-005", "accounts with no admin").startswith(
        "instagram-main has no active admin recorded")
    assert "Grant admin to two trusted people" in message(data, "SEC-005",
                                                          "accounts with no admin")
    sh.run(f"grant add amiller fb-main --role admin --reason x {sh.as_('vperkins')}")
    assert found(check(sh), "SEC-005") == {"accounts with no admin"}
    behind_the_log(sh.db, "UPDATE people SET status = 'left' WHERE id IN ('amiller', 'spatel')")
    data = check(sh)
    assert found(data, "SEC-005") == {"fb-main", "accounts with no admin"}
    assert found(data, "SEC-004") == {"fb-main", "bsky"}
    assert found(data, "SEC-006") == {"fb-main"}
    assert "Al Miller (amiller), who has left" in message(data, "SEC-006", "fb-main")


def test_messaging_groups_need_an_overseer_and_a_purpose(org: Shell) -> None:
    sh = org
    sh.run(f'account add wa-youth --platform whatsapp --handle "Youth group" --owner vperkins '
           f'--purpose "Youth chat" {sh.as_("spatel")}')
    sh.run(f'account add wa-staff --platform whatsapp --handle "Staff" --owner vperkins '
           f'--purpose "Rota" --overseer jdoe {sh.as_("spatel")}')
    data = check(sh)
    assert found(data, "MSG-001") == {"wa-youth"}
    assert data["findings"][0]["heading"] in policy_lines()
    behind_the_log(sh.db, "UPDATE people SET status = 'left' WHERE id = 'jdoe'")
    behind_the_log(sh.db, "UPDATE accounts SET purpose = '  ' WHERE id = 'wa-staff'")
    data = check(sh)
    assert found(data, "MSG-001") == {"wa-youth", "wa-staff"}
    assert found(data, "MSG-002") == {"wa-staff"}
    assert {f["heading"] for f in data["findings"] if f["rule"].startswith("MSG")} == {
        "WhatsApp, Messaging Apps and Group Chats"}


# -- credentials ---------------------------------------------------------------------------------

def test_a_leaver_who_could_know_a_password_until_it_is_rotated(shared: Shell) -> None:
    sh = shared
    behind_the_log(sh.db, "UPDATE people SET status = 'left' WHERE id = 'jdoe'")
    data = check(sh)
    assert found(data, "CRD-001") == {"tiktok-main/password"}
    assert "could be known to Jo Doe (jdoe), who has left" in \
        message(data, "CRD-001", "tiktok-main/password")
    behind_the_log(sh.db, "UPDATE grants SET status = 'revoked' WHERE id = 'G-0001'")
    sh.run(f"cred rotate tiktok-main --generate {sh.as_('vperkins')}")
    assert "CRD-001" not in found(check(sh))


def test_a_credential_older_than_the_maximum_age(shared: Shell) -> None:
    sh = shared
    sh.clock.advance(366 * 24 * 3600)
    data = check(sh)
    assert found(data, "CRD-002") == {"tiktok-main/password"}
    assert "more than 365 days ago" in message(data, "CRD-002", "tiktok-main/password")
    sh.run(f"policy set credential-max-age-days 400 {sh.as_('spatel')}")
    assert "CRD-002" not in found(check(sh))
    sh.clock.advance(40 * 24 * 3600)
    assert "more than 400 days ago" in message(check(sh), "CRD-002", "tiktok-main/password")


def test_a_totp_seed_needs_its_recovery_codes(shared: Shell) -> None:
    sh = shared
    sh.run(f"cred set tiktok-main --kind totp-seed --stdin {sh.as_('vperkins')}",
           input="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n")
    assert found(check(sh), "CRD-003") == {"tiktok-main/totp-seed"}
    sh.run(f"cred set tiktok-main --kind recovery-codes --stdin {sh.as_('vperkins')}",
           input="1111-2222\n3333-4444\n")
    assert "CRD-003" not in found(check(sh))


# -- the secret store -----------------------------------------------------------------------------

def store_of(sh: Shell) -> MemoryBackend:
    from accessgov.secrets.config import BackendConfig

    backend = sh.backend_factory(BackendConfig("memory", "interact"))
    assert isinstance(backend, MemoryBackend)
    return backend


def test_the_store_and_the_register_agree_on_a_tidy_register(shared: Shell) -> None:
    data = check(shared)
    assert not {rule for rule in found(data) if rule.startswith("STO")}
    assert data["store_note"] == "reconciled with the register"


@pytest.mark.parametrize("listing", ["vault-like", "keyring-like"])
def test_secrets_without_records_and_records_without_secrets(shared: Shell,
                                                             listing: str) -> None:
    sh = shared
    if listing == "keyring-like":
        store_behaving(sh, can_list=False)  # as a keyring: it cannot list its entries
    store = store_of(sh)
    store.write("tiktok-main/password", "Newer-Outside-1", expect_version=1)  # not recorded
    store.write("orphan-acct/password", "Nobody-Knows-2", expect_version=0)  # never recorded
    sh.run(f"mfa reset spatel --reason 'lost phone' {sh.as_('vperkins')}")
    store.write("mfa/spatel", "JBSWY3DPEHPK3PXP", expect_version=0)  # the reset's leftover
    store.delete("mfa/vperkins")  # the CEO's seed, lost
    data = check(sh)
    expected = {"tiktok-main/password", "mfa/spatel"}
    if listing == "vault-like":  # only a store that lists shows what accessgov never wrote
        expected.add("orphan-acct/password")
    assert found(data, "STO-001") == expected
    assert found(data, "STO-002") == {"mfa/vperkins"}
    assert "version 2" in message(data, "STO-001", "tiktok-main/password")
    assert "vperkins cannot prove who they are" in message(data, "STO-002", "mfa/vperkins")


def test_a_recorded_credential_the_store_lost(shared: Shell) -> None:
    store = store_of(shared)
    store.discard("tiktok-main/password", 1)
    data = check(shared)
    assert found(data, "STO-002") == {"tiktok-main/password"}
    assert "no longer holds it" in message(data, "STO-002", "tiktok-main/password")


def test_an_unreachable_store_is_a_finding_and_no_store_skips_it(shared: Shell) -> None:
    store_behaving(shared, broken=True)
    data = check(shared)
    assert found(data, "STO-003") == {"secret store"}
    assert "test: store down" in message(data, "STO-003", "secret store")
    assert data["store_checked"] is False
    skipped = check(shared, "--no-store")
    assert not {rule for rule in found(skipped) if rule.startswith("STO")}
    assert skipped["store_note"] == "not checked (--no-store)"
    assert "secret store: not checked (--no-store)" in shared.run("check --no-store",
                                                                   expect=1).stdout


# -- reviews and the policy -----------------------------------------------------------------------

def test_an_overdue_review_and_the_quarterly_rhythm(shared: Shell) -> None:
    sh = shared
    sh.run(f"review start --due {sh.clock.now.date().isoformat()} {sh.as_('vperkins')}")
    sh.clock.advance(2 * 24 * 3600)
    data = check(sh)
    quarter = validate_output("review-list", sh.run("review list --format json").stdout)[0]["id"]  # type: ignore[index]
    assert found(data, "REV-001") == {quarter}
    assert "(0 of 1 items decided)" in message(data, "REV-001", quarter)
    sh.run(f"review decide {quarter} 1 keep {sh.as_('spatel')}")
    sh.run(f"review close {quarter} {sh.as_('spatel')}")
    assert not {"REV-001", "REV-002"} & found(check(sh))
    sh.clock.advance(93 * 24 * 3600)
    assert f"the last was {quarter}" in message(check(sh), "REV-002", "access reviews")


def test_the_annual_policy_review(org: Shell) -> None:
    sh = org
    sh.run(f"policy reviewed --date {sh.clock.now.date().isoformat()} --board-minute 'BM 3' "
           f"{sh.as_('spatel')}")
    assert "POL-001" not in found(check(sh))
    sh.clock.advance(366 * 24 * 3600)
    assert "the last review recorded was on" in message(check(sh), "POL-001", "policy")


def test_a_high_threshold_still_counts_every_finding_and_an_unchecked_store_is_high(
        shared: Shell) -> None:
    """Issue 16: `check --severity high` hid the medium findings from its summary too, and
    with the store out of reach it said "No findings." and exited 0."""
    everything = check(shared)
    high = check(shared, "--severity high")
    assert high["counts"] == everything["counts"]  # the summary counts every severity
    assert all(finding["severity"] == "high" for finding in high["findings"])
    shown = shared.run("check --severity high", expect=None).stdout
    assert f"medium findings: {everything['counts']['medium']}" in shown

    store_behaving(shared, broken=True)
    result = shared.run("check --severity high --format json", expect=1)
    data = json.loads(result.stdout)
    assert found(data, "STO-003") == {"secret store"}
    assert "No findings." not in shared.run("check --severity high", expect=1).stdout
