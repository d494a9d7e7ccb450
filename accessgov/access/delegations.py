"""Delegations: the CEO lets a named person approve access, for some or all accounts.

The policy: "The CEO may delegate responsibility for managing or posting on official
accounts to authorised staff members." Only the CEO delegates; the CEO or a trustee revokes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.db.queries import accounts as accounts_rows
from accessgov.db.queries import delegations, people
from accessgov.db.register import Register, Row
from accessgov.db.seals import strip
from accessgov.errors import InputError
from accessgov.identity import rules
from accessgov.identity.authority import authorise

if TYPE_CHECKING:
    from accessgov.operation import Operation


def list_delegations(register: Register, today: str, *, person: str | None = None,
                     include_ended: bool = False) -> list[Row]:
    """Delegations with their scope and whether each is in force today."""
    if person:
        people.get(register, person)
    holders = [person] if person else delegations.delegates(register)
    found = [strip(delegation) for who in holders
             for delegation in delegations.held_by(register, who)]
    for delegation in found:
        delegation["accounts"] = [
            scope["account"] for scope in delegations.scopes(register, delegation["id"])]
        delegation["in_force"] = rules.delegation_in_force(delegation, today)
        delegation["all_accounts"] = bool(delegation["all_accounts"])
        delegation["mfa_verified"] = bool(delegation["mfa_verified"])
    found.sort(key=lambda delegation: delegation["num"])
    if not include_ended:
        found = [d for d in found if rules.delegation_current(d, today)]
    for delegation in found:
        del delegation["num"]
    return found


def add_delegation(op: Operation, delegate: str, *, accounts: list[str], all_accounts: bool,
                   valid_from: str | None = None, valid_until: str | None = None,
                   board_minute: str | None = None) -> str:
    """The CEO authorises `delegate` to approve access within a scope. Returns its id."""
    person = people.get(op.register, delegate)
    if all_accounts == bool(accounts):
        raise InputError("give either --all or one or more --account options for the scope")
    for account in accounts:
        accounts_rows.get(op.register, account)
    if person["status"] != "active":
        raise InputError(f"{delegate} has left and cannot be given a delegation")
    if rules.is_approver_category(person["category"]):
        raise InputError(f"{delegate} is a {person['category']} and approves already")
    # An empty --from or --until is a mistake, not "today" or "for ever".
    starts = parse_date(valid_from, "--from") if valid_from is not None else op.today
    ends = parse_date(valid_until, "--until") if valid_until is not None else None
    if ends is not None and (ends < starts or ends < op.today):
        raise InputError("--until must be after --from and not in the past")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    _refuse_overlap(op.register, delegate, starts, ends, op.today)
    authorise(op, "delegation.add", delegate, concerned=delegate)
    proof = op.proof
    assert proof is not None  # authorise proved the operator's MFA
    delegation_id, number = op.next_id("delegations", "D")
    op.register.insert("delegations", {
        "id": delegation_id, "num": number, "delegate": delegate,
        "all_accounts": int(all_accounts), "granted_by": op.operator["id"], "mfa_verified": 1,
        "verified_by": proof.describe(), "valid_from": starts, "valid_until": ends,
        "created_at": op.at,
    })
    for account in sorted(set(accounts)):
        op.register.insert("delegation_accounts", {"delegation": delegation_id,
                                                   "account": account})
    op.record("delegation.add", delegation_id, delegate=delegate,
              scope="all accounts" if all_accounts else sorted(set(accounts)),
              valid_from=starts, valid_until=ends, board_minute=minute)
    return delegation_id


def revoke_delegation(op: Operation, delegation_id: str, *, reason: str,
                      board_minute: str | None = None) -> None:
    """End a delegation early (the CEO or a trustee; not the delegate)."""
    delegation = delegations.get(op.register, delegation_id)
    if delegation["revoked_at"]:
        raise InputError(f"{delegation_id} was already revoked on {delegation['revoked_at'][:10]}")
    reason = validate.text(reason, "reason")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    authorise(op, "delegation.revoke", delegation_id, concerned=delegation["delegate"])
    op.register.update("delegations", {"id": delegation_id}, {
        "revoked_by": op.operator["id"], "revoked_at": op.at, "revoke_reason": reason,
    })
    op.record("delegation.revoke", delegation_id, delegate=delegation["delegate"],
              reason=reason, board_minute=minute)


def _refuse_overlap(register: Register, delegate: str, starts: str, ends: str | None,
                    today: str) -> None:
    """One delegation at a time per person: a second, overlapping one is a mistake."""
    new = {"valid_from": starts, "valid_until": ends}
    other = rules.overlapping_delegation(delegations.held_by(register, delegate), new, today)
    if other is not None:
        raise InputError(
            f"{delegate} already holds delegation {other['id']} for those dates; "
            f"revoke it first (accessgov delegate revoke {other['id']})"
        )
