"""Delegations: the CEO lets a named person approve access, for some or all accounts.

The policy: "The CEO may delegate responsibility for managing or posting on official
accounts to authorised staff members." Only the CEO delegates; the CEO or a trustee revokes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.db.queries import (
    delegation_scopes,
    delegations_of,
    get_account,
    get_delegation,
    get_person,
)
from accessgov.db.register import Register, Row
from accessgov.db.seals import strip
from accessgov.errors import InputError
from accessgov.identity.authority import authorise, delegation_in_force, is_approver_category

if TYPE_CHECKING:
    from accessgov.operation import Operation


def list_delegations(register: Register, today: str, *, person: str | None = None,
                     include_ended: bool = False) -> list[Row]:
    """Delegations with their scope and whether each is in force today."""
    if person:
        get_person(register, person)
    people = [person] if person else [
        row["delegate"] for row in register.rows("SELECT DISTINCT delegate FROM delegations")
    ]
    found = [strip(delegation) for who in people for delegation in delegations_of(register, who)]
    for delegation in found:
        delegation["accounts"] = [
            scope["account"] for scope in delegation_scopes(register, delegation["id"])]
        delegation["in_force"] = delegation_in_force(delegation, today)
        delegation["all_accounts"] = bool(delegation["all_accounts"])
        delegation["mfa_verified"] = bool(delegation["mfa_verified"])
    found.sort(key=lambda delegation: delegation["num"])
    if not include_ended:
        found = [d for d in found if not d["revoked_at"] and
                 (not d["valid_until"] or d["valid_until"] >= today)]
    for delegation in found:
        del delegation["num"]
    return found


def add_delegation(op: Operation, delegate: str, *, accounts: list[str], all_accounts: bool,
                   valid_from: str | None = None, valid_until: str | None = None,
                   board_minute: str | None = None) -> str:
    """The CEO authorises `delegate` to approve access within a scope. Returns its id."""
    person = get_person(op.register, delegate)
    if all_accounts == bool(accounts):
        raise InputError("give either --all or one or more --account options for the scope")
    for account in accounts:
        get_account(op.register, account)
    if person["status"] != "active":
        raise InputError(f"{delegate} has left and cannot be given a delegation")
    if is_approver_category(person["category"]):
        raise InputError(f"{delegate} is a {person['category']} and approves already")
    # An empty --from or --until is a mistake, not "today" or "for ever".
    starts = parse_date(valid_from, "--from") if valid_from is not None else op.today
    ends = parse_date(valid_until, "--until") if valid_until is not None else None
    if ends is not None and (ends < starts or ends < op.today):
        raise InputError("--until must be after --from and not in the past")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    _refuse_overlap(op.register, delegate, starts, ends, op.today)
    authorise(op, "delegation.add", delegate, concerned=delegate)
    op.trusted("people", person)
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
    delegation = get_delegation(op.register, delegation_id)
    if delegation["revoked_at"]:
        raise InputError(f"{delegation_id} was already revoked on {delegation['revoked_at'][:10]}")
    reason = validate.text(reason, "reason")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    authorise(op, "delegation.revoke", delegation_id, concerned=delegation["delegate"])
    op.trusted("delegations", delegation)
    op.register.update("delegations", {"id": delegation_id}, {
        "revoked_by": op.operator["id"], "revoked_at": op.at, "revoke_reason": reason,
    })
    op.record("delegation.revoke", delegation_id, delegate=delegation["delegate"],
              reason=reason, board_minute=minute)


def _refuse_overlap(register: Register, delegate: str, starts: str, ends: str | None,
                    today: str) -> None:
    """One delegation at a time per person: a second, overlapping one is a mistake."""
    for other in delegations_of(register, delegate):
        if other["revoked_at"] or (other["valid_until"] and other["valid_until"] < today):
            continue
        if (ends is None or other["valid_from"] <= ends) and (
                other["valid_until"] is None or starts <= other["valid_until"]):
            raise InputError(
                f"{delegate} already holds delegation {other['id']} for those dates; "
                f"revoke it first (accessgov delegate revoke {other['id']})"
            )
