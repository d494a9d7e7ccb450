"""Named queries of the policy checks (accessgov.governance.checks): each lists the records
one rule looks at, read one at a time (the big tables are never held whole). Every query
that needs the date takes `today`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from accessgov.db.queries.grants import LIVE_GRANT
from accessgov.db.register import Register, Row

# -- people ------------------------------------------------------------------------------------


def people(register: Register) -> Iterator[Row]:
    """id, name, email, category, status and leave date of everyone."""
    return register.stream("SELECT id, name, email, category, status, leave_date FROM people")


def approvers_and_delegates(register: Register, today: str) -> Iterator[Row]:
    """Active CEOs, trustees and holders of a delegation, with how many delegations each has
    in force today and their MFA status."""
    return register.stream(
        "SELECT p.id, p.category, (SELECT COUNT(*) FROM delegations d WHERE d.delegate = p.id "
        "AND d.revoked_at IS NULL AND d.valid_from <= :today AND (d.valid_until IS NULL OR "
        ":today <= d.valid_until)) AS delegations, COALESCE(m.status, 'none') AS mfa "
        "FROM people p LEFT JOIN mfa m ON m.person = p.id WHERE p.status = 'active' AND "
        "(p.category IN ('ceo', 'trustee') OR p.id IN (SELECT delegate FROM delegations)) "
        "ORDER BY p.id", {"today": today})


# -- grants and approvals -------------------------------------------------------------------

_APPROVAL = ("SELECT g.id, g.person, g.account, g.role, ap.approver, ap.authority, ap.at "
             "FROM grants g JOIN approvals ap ON ap.grant_id = g.id "
             "AND ap.decision = 'approved'")


def approval_pairs(register: Register, today: str) -> list[Row]:
    """Each (approver, authority) pair of the live grants once, with how many of them the
    grantee approved themselves (`own`); a None approver stands for grants nobody approved.
    One pass over the grants settles most of them without reading approvals one by one."""
    return register.rows(
        "SELECT ap.approver, ap.authority, "
        "SUM(CASE WHEN ap.approver = g.person THEN 1 ELSE 0 END) AS own "
        f"FROM grants g LEFT JOIN approvals ap ON ap.grant_id = g.id "
        f"AND ap.decision = 'approved' WHERE {LIVE_GRANT} "
        "GROUP BY ap.approver, ap.authority", {"today": today})


def unapproved(register: Register, today: str) -> Iterator[Row]:
    """Live grants with no approval."""
    return register.stream(
        f"SELECT g.id, g.person, g.account, g.role FROM grants g WHERE {LIVE_GRANT} "
        "AND NOT EXISTS (SELECT 1 FROM approvals ap WHERE ap.grant_id = g.id "
        "AND ap.decision = 'approved') ORDER BY g.num", {"today": today})


def self_approved(register: Register, today: str) -> Iterator[Row]:
    """Live grants approved by their grantee."""
    return register.stream(f"{_APPROVAL} WHERE {LIVE_GRANT} AND ap.approver = g.person "
                           "ORDER BY g.num", {"today": today})


def approvals_by(register: Register, today: str, approver: str,
                 authority: str) -> Iterator[Row]:
    """The live grants one approver approved on one authority."""
    return register.stream(
        f"{_APPROVAL} WHERE {LIVE_GRANT} AND ap.approver = :approver "
        "AND ap.authority = :authority ORDER BY g.num",
        {"today": today, "approver": approver, "authority": authority})


def approvals_between(register: Register, today: str,
                      pairs: Sequence[tuple[str, str]]) -> Iterator[Row]:
    """The live approvals given by an approver to a grantee, for each (grantee, approver)
    pair, found through the grantees' own grants."""
    return register.stream(
        "SELECT g.id, g.person, g.account, g.role, ap.approver, ap.authority, ap.at "
        f"FROM {register.dialect.json_pair_items(':pairs', 'pairs')} "
        "JOIN grants g ON g.person = pairs.first "
        "JOIN approvals ap ON ap.grant_id = g.id AND ap.decision = 'approved' "
        f"AND ap.approver = pairs.second WHERE {LIVE_GRANT} ORDER BY g.num",
        {"today": today, "pairs": json.dumps(list(pairs))})


def delegations_from_leavers(register: Register, today: str) -> Iterator[Row]:
    """Delegations in force whose giver has left (id, delegate, granted_by)."""
    return register.stream(
        "SELECT d.id, d.delegate, d.granted_by, p.leave_date FROM delegations d "
        "JOIN people p ON p.id = d.granted_by WHERE p.status = 'left' "
        "AND d.revoked_at IS NULL AND d.valid_from <= :today "
        "AND (d.valid_until IS NULL OR :today <= d.valid_until) ORDER BY d.num",
        {"today": today})


def review_decisions(register: Register) -> Iterator[Row]:
    """Every review decision with its grant's person and account (campaign, item, grant,
    person, account, decision, decided_by, decided_at)."""
    return register.stream(
        "SELECT d.campaign, d.item, d.grant_id, g.person, g.account, d.decision, "
        "d.decided_by, d.decided_at FROM review_decisions d JOIN grants g ON g.id = d.grant_id "
        "ORDER BY d.campaign, d.item")


def held_by_leavers(register: Register) -> Iterator[Row]:
    """Active grants whose holder has left."""
    return register.stream(
        "SELECT g.id, g.person, g.account, g.role, p.leave_date FROM grants g "
        "JOIN people p ON p.id = g.person "
        "WHERE g.status = 'active' AND p.status = 'left' ORDER BY g.num")


def past_expiry(register: Register, today: str) -> Iterator[Row]:
    """Active grants whose last day has passed."""
    return register.stream(
        "SELECT g.id, g.person, g.account, g.role, g.expires FROM grants g "
        "WHERE g.status = 'active' AND g.expires < :today ORDER BY g.num", {"today": today})


def delegations(register: Register) -> Iterator[Row]:
    """Every delegation."""
    return register.stream("SELECT * FROM delegations")


def delegation_scopes(register: Register) -> Iterator[Row]:
    """Every (delegation, account) of a delegation's scope."""
    return register.stream("SELECT delegation, account FROM delegation_accounts")


def approver_history(register: Register) -> Iterator[Row]:
    """The events that put approvers in place (added, made approvers, enrolled, reset,
    given delegations), oldest first."""
    return register.stream(
        "SELECT at, actor, action, subject, details FROM audit WHERE action IN "
        "('person.add', 'person.update', 'person.import', 'person.reinstate', 'mfa.enrol', "
        "'mfa.reset', 'delegation.add', 'delegation.import') ORDER BY seq")


def enrolments(register: Register) -> Iterator[Row]:
    """Who enrolled each MFA seed in use (person, enrolled_by, enrolled_at)."""
    return register.stream("SELECT person, enrolled_by, enrolled_at FROM mfa "
                           "WHERE enrolled_by IS NOT NULL")


# -- accounts ----------------------------------------------------------------------------------

def active_accounts(register: Register) -> Iterator[Row]:
    """Active accounts with their MFA, recovery email and owner's status."""
    return register.stream(
        "SELECT a.id, a.platform, a.owner, a.mfa_method, a.access, a.recovery_email, "
        "p.status AS owner_status FROM accounts a LEFT JOIN people p ON p.id = a.owner "
        "WHERE a.status = 'active' ORDER BY a.id")


def short_of_admins(register: Register, today: str, platforms: Sequence[str]) -> Iterator[Row]:
    """Active delegated accounts on these platforms with fewer than two active admins (id,
    platform, admins: the admins there are, comma-separated)."""
    marks = ", ".join(f":p{n}" for n in range(len(platforms)))
    params = {f"p{n}": platform for n, platform in enumerate(platforms)} | {"today": today}
    return register.stream(
        f"SELECT a.id, a.platform, {register.dialect.joined('g.person', ', ')} AS admins "
        "FROM accounts a "
        "LEFT JOIN grants g ON g.account = a.id AND g.role = 'admin' "
        f"AND {LIVE_GRANT} AND g.person IN (SELECT id FROM people WHERE status = 'active') "
        f"WHERE a.status = 'active' AND a.access = 'delegated' AND a.platform IN ({marks}) "
        "GROUP BY a.id HAVING COUNT(DISTINCT g.person) < 2 ORDER BY a.id", params)


def messaging_groups(register: Register) -> Iterator[Row]:
    """Active messaging groups with their overseer, purpose and overseer's status."""
    return register.stream(
        "SELECT a.id, a.overseer, a.purpose, p.status AS overseer_status FROM accounts a "
        "LEFT JOIN people p ON p.id = a.overseer "
        "WHERE a.status = 'active' AND a.kind = 'messaging-group' ORDER BY a.id")


# -- credentials ------------------------------------------------------------------------------

def known_to_leavers(register: Register) -> Iterator[Row]:
    """Credentials whose current version a leaver could know (leavers: comma-separated)."""
    return register.stream(
        "SELECT c.account, c.kind, c.version, "
        f"{register.dialect.joined('e.person', distinct=True)} AS leavers "
        "FROM credentials c JOIN exposures e ON e.account = c.account "
        "AND e.kind = c.kind AND e.version = c.version "
        "JOIN people p ON p.id = e.person AND p.status = 'left' "
        "GROUP BY c.account, c.kind, c.version ORDER BY c.account, c.kind")


def unchanged_since(register: Register, oldest: str) -> Iterator[Row]:
    """Credentials last changed before the day `oldest` (account, kind, changed)."""
    return register.stream(
        "SELECT account, kind, COALESCE(rotated_at, set_at) AS changed FROM credentials "
        "WHERE substr(COALESCE(rotated_at, set_at), 1, 10) < :oldest ORDER BY account, kind",
        {"oldest": oldest})


def seeds_without_codes(register: Register) -> Iterator[Row]:
    """Active accounts with a TOTP seed but no recovery codes recorded."""
    return register.stream(
        "SELECT s.account FROM credentials s JOIN accounts a ON a.id = s.account "
        "WHERE s.kind = 'totp-seed' AND a.status = 'active' AND NOT EXISTS (SELECT 1 FROM "
        "credentials r WHERE r.account = s.account AND r.kind = 'recovery-codes') "
        "ORDER BY s.account")


def credential_versions(register: Register) -> Iterator[Row]:
    """Every credential's account, kind and recorded version."""
    return register.stream("SELECT account, kind, version FROM credentials")


def seed_versions(register: Register) -> Iterator[Row]:
    """The seed version of every pending or confirmed operator MFA."""
    return register.stream("SELECT person, seed_version FROM mfa "
                           "WHERE status IN ('pending', 'confirmed') AND seed_version > 0")


def written_credential_paths(register: Register) -> Iterator[Row]:
    """Every (account, kind) accessgov ever wrote a version of."""
    return register.stream("SELECT DISTINCT account, kind FROM credential_versions")


def enrolled_seed_subjects(register: Register) -> Iterator[Row]:
    """Everyone whose MFA seed accessgov ever wrote or removed (subject)."""
    return register.stream(
        "SELECT DISTINCT subject FROM audit WHERE action IN ('mfa.enrol', 'mfa.reset')")


# -- reviews, policy, offboarding ------------------------------------------------------------

def overdue_reviews(register: Register, today: str) -> Iterator[Row]:
    """Open review campaigns past their due date."""
    return register.stream("SELECT id, due, items, decided FROM review_campaigns "
                           "WHERE status = 'open' AND due < :today ORDER BY id",
                           {"today": today})


def last_closed_review(register: Register) -> Row | None:
    """The review campaign closed last (id, closed_at)."""
    return register.row("SELECT id, closed_at FROM review_campaigns WHERE status = 'closed' "
                        "ORDER BY closed_at DESC LIMIT 1")


def last_policy_review(register: Register) -> Row | None:
    """The latest recorded policy review (reviewed_on, board_minute)."""
    return register.row("SELECT reviewed_on, board_minute FROM policy_reviews "
                        "ORDER BY reviewed_on DESC LIMIT 1")


def stalled_offboarding(register: Register, oldest: str) -> Iterator[Row]:
    """Open offboarding cases carried out before the day `oldest` with items still open."""
    return register.stream(
        "SELECT c.id, c.person, c.carried_out_at, COUNT(i.item) AS still "
        "FROM offboarding_cases c JOIN offboarding_items i ON i.case_id = c.id "
        "AND i.status = 'open' WHERE c.status = 'open' "
        "AND substr(c.carried_out_at, 1, 10) < :oldest GROUP BY c.id ORDER BY c.num",
        {"oldest": oldest})


def offboarding_due(register: Register, today: str) -> Iterator[Row]:
    """Scheduled offboarding cases whose leave date has come."""
    return register.stream("SELECT id, person, leave_date FROM offboarding_cases "
                           "WHERE status = 'scheduled' AND leave_date <= :today ORDER BY num",
                           {"today": today})
