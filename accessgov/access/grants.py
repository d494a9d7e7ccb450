"""Grants of access to official accounts, and the approval record behind each one.

The policy: access is restricted to contributors approved by the CEO or the Board, and the
approval must say who approved, with what authority, and how they proved who they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accessgov.access import catalogue, exposures
from accessgov.access.grant_reads import get_grant
from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.db.queries import accounts, people, records
from accessgov.db.queries import grants as grant_rows
from accessgov.db.register import Register, Row
from accessgov.errors import InputError
from accessgov.identity import rules
from accessgov.identity.authority import authorise

if TYPE_CHECKING:
    from accessgov.operation import Operation


def request_grant(op: Operation, person_id: str, account_id: str, *, role: str, reason: str,
                  expires: str | None = None) -> str:
    """Ask for access: a pending grant that an approver must approve. Returns its id.
    An approver asks for anyone; anyone else only for themselves."""
    account, fields = _check_request(op, person_id, account_id, role, reason, expires)
    authorise(op, "grant.request", account_id, account=account, concerned=person_id)
    return _insert_request(op, fields)


def decide_grant(op: Operation, grant_id: str, *, approve: bool,
                 board_minute: str | None = None, note: str | None = None) -> Row:
    """Approve or decline a pending grant, recording who decided, with what authority."""
    grant = grant_rows.get(op.register, grant_id)
    if grant["status"] != "pending":
        raise InputError(f"{grant_id} is {grant['status']}, not pending; only pending "
                         "requests can be approved or declined")
    if approve:
        _ensure_grantee_can_hold(op, grant)
        if grant["expires"] and grant["expires"] < op.today:
            raise InputError(f"{grant_id} was requested until {grant['expires']}, which has "
                             "passed; decline it and request again")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    note = validate.text(note, "reason") if note else None
    account = accounts.get(op.register, grant["account"])
    used = authorise(op, "grant.approve" if approve else "grant.decline", grant_id,
                     account=account, concerned=grant["person"], grant=grant)
    _record_decision(op, grant, approve, str(used), minute, note)
    return get_grant(op.register, grant_id, op.today)


def add_grant(op: Operation, person_id: str, account_id: str, *, role: str, reason: str,
              expires: str | None = None, board_minute: str | None = None) -> Row:
    """Request and approve in one step, by one approver (never for themselves)."""
    account, fields = _check_request(op, person_id, account_id, role, reason, expires)
    minute = validate.text(board_minute, "board minute") if board_minute else None
    # The proxy rule reads whose grant it is and who asked for it: here, the operator asks.
    asked = {"person": person_id, "requested_by": op.actor}
    used = authorise(op, "grant.add", account_id, account=account, concerned=person_id,
                     grant=asked)
    grant_id = _insert_request(op, fields)
    _record_decision(op, grant_rows.get(op.register, grant_id), True, str(used), minute, None)
    return get_grant(op.register, grant_id, op.today)


def revoke_grant(op: Operation, grant_id: str, *, reason: str) -> Row:
    """End an active grant: the person must be removed from the account."""
    grant = grant_rows.get(op.register, grant_id)
    if grant["status"] != "active":
        hint = " (use grant decline for a pending request)" if grant["status"] == "pending" else ""
        raise InputError(f"{grant_id} is {grant['status']}, not active{hint}")
    reason = validate.text(reason, "reason")
    account = accounts.get(op.register, grant["account"])
    authorise(op, "grant.revoke", grant_id, account=account, concerned=grant["person"])
    op.register.update("grants", {"id": grant_id}, {
        "status": "revoked", "revoked_by": op.operator["id"], "revoked_at": op.at,
        "revoke_reason": reason,
    })
    op.record("grant.revoke", grant_id, person=grant["person"], account=grant["account"],
              role=grant["role"], reason=reason)
    return get_grant(op.register, grant_id, op.today)


def platform_step(register: Register, grant: Row) -> str:
    """What to do on the platform now that the grant is approved: the register records the
    access, the platform must be given it too."""
    account = accounts.get(register, grant["account"])
    entry = catalogue.platform(account["platform"])
    if account["access"] == "shared-login":
        return (f"Next: {grant['person']} takes the login with 'accessgov cred reveal "
                f"{account['id']} --as {grant['person']}' (recorded as an exposure); nothing "
                f"changes on {entry.name}.")
    word = entry.roles.get(grant["role"], grant["role"])
    return (f"Next, on {entry.name}: add {grant['person_name']} to {account['handle']} as "
            f"{word}.")


def confirm_claims(op: Operation, grant_ids: list[str] | None) -> list[str]:
    """The person an imported grant's file named as its approver confirms, with their MFA, that
    they did approve it (every grant waiting for them when `grant_ids` is None)."""
    if grant_ids is None:
        grant_ids = grant_rows.claims_to_confirm(op.register, op.operator["id"])
        if not grant_ids:
            raise InputError(f"no imported grant is waiting for {op.operator['id']} to confirm "
                             "it")
    for grant_id in grant_ids:
        grant = grant_rows.get(op.register, grant_id)
        records.require_children(op.register, "approval_claims", grant_id)
        claim = grant_rows.claim(op.register, grant_id)
        if claim is None:
            raise InputError(f"{grant_id} was not imported: its approval was given in this "
                             "register, so there is nothing to confirm")
        authorise(op, "grant.confirm", grant_id, concerned=claim["claimed_by"])
        if claim["claimed_by"] == claim["imported_by"]:
            raise InputError(f"{grant_id} was imported by {claim['imported_by']} themselves: "
                             "the approval is already theirs")
        if claim["confirmed_at"]:
            raise InputError(f"{grant_id} was already confirmed on {claim['confirmed_at'][:10]}")
        proof = op.proof
        op.register.update("approval_claims", {"grant_id": grant_id}, {
            "confirmed_at": op.at,
            "confirmed_verified_by": proof.describe() if proof else None})
        op.record("grant.confirm", grant_id, person=grant["person"], account=grant["account"],
                  claimed_at=claim["claimed_at"], authority=claim["authority"],
                  imported_by=claim["imported_by"])
    return grant_ids


def _check_request(op: Operation, person_id: str, account_id: str, role: str, reason: str,
                   expires: str | None) -> tuple[Row, dict[str, object]]:
    """The account and the new grant's fields, or an InputError about the request."""
    person = people.get(op.register, person_id)
    account = accounts.get(op.register, account_id)
    if problem := rules.cannot_hold(person, account):
        raise InputError(problem[1])
    validate.one_of(role, catalogue.ROLES, "role")
    if account["access"] == "delegated":
        # With a shared login everyone acts as the account itself; the role only records the
        # intended use, so the platform's own role words do not apply.
        catalogue.platform(account["platform"]).role_word(role)
    if expires is not None:
        expires = parse_date(expires, "--expires")
        if expires < op.today:
            raise InputError(f"--expires {expires} is in the past")
    existing = grant_rows.open_one(op.register, person_id, account_id)
    if existing:
        raise InputError(
            f"{person_id} already has grant {existing} on {account_id}; "
            "revoke or decline it before asking for another"
        )
    fields: dict[str, object] = {"person": person_id, "account": account_id, "role": role,
                                 "reason": validate.text(reason, "reason"), "expires": expires}
    return account, fields


def _insert_request(op: Operation, fields: dict[str, object]) -> str:
    grant_id, number = op.next_id("grants", "G")
    op.register.insert("grants", {"id": grant_id, "num": number, **fields,
                                  "requested_by": op.actor, "requested_at": op.at,
                                  "status": "pending"})
    op.record("grant.request", grant_id, **fields)
    return grant_id


def _record_decision(op: Operation, grant: Row, approve: bool, used: str,
                     minute: str | None, note: str | None) -> None:
    proof = op.proof
    assert proof is not None  # authorise proved the operator's MFA
    decision = "approved" if approve else "declined"
    op.register.insert("approvals", {
        "grant_id": grant["id"], "decision": decision, "approver": op.operator["id"],
        "authority": used, "board_minute": minute,
        "mfa_verified": 1, "verified_by": proof.describe(), "at": op.at,
    })
    op.register.update("grants", {"id": grant["id"]},
                       {"status": "active" if approve else "declined", "decided_at": op.at})
    op.record(f"grant.{'approve' if approve else 'decline'}", grant["id"],
              person=grant["person"], account=grant["account"], role=grant["role"],
              authority=used, board_minute=minute, note=note)
    if approve:
        exposures.expose_grant_holder(op.register, grant, op.at)


def _ensure_grantee_can_hold(op: Operation, grant: Row) -> None:
    person = people.get(op.register, grant["person"])
    account = accounts.get(op.register, grant["account"])
    if problem := rules.cannot_hold(person, account,
                                    consequence="the request cannot be approved"):
        raise InputError(problem[1])


def expire_due_grants(op: Operation) -> None:
    """Grants whose end date has passed become expired, each with its audit event."""
    for grant in grant_rows.past_their_end(op.register, op.today):
        # Read through the checked path first: a row this change has vouched for stays
        # trusted after the change writes to it (the command may act on the same grant).
        grant_rows.get(op.register, grant["id"])
        op.register.update("grants", {"id": grant["id"]}, {"status": "expired"})
        op.record_system("grant.expire", grant["id"], person=grant["person"],
                         account=grant["account"])
