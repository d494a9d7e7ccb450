"""Who may approve what, as pure functions over register rows.

Approvers are the one active CEO, active trustees (the Board), and holders of an active
delegation from the CEO within its scope. Nobody approves access for themselves.
"""

from __future__ import annotations

from accessgov.db.queries import delegations_of
from accessgov.db.register import Register, Row
from accessgov.errors import Refused
from accessgov.identity.proof import prove
from accessgov.operation import SETUP_ACTOR, Operation

APPROVER_CATEGORIES = ("ceo", "trustee")


def delegation_in_force(delegation: Row, today: str) -> bool:
    """Not revoked, started, and not past its end date."""
    return (
        not delegation["revoked_at"]
        and delegation["valid_from"] <= today
        and (not delegation["valid_until"] or today <= delegation["valid_until"])
    )


def delegation_covers(delegation: Row, account: str | None) -> bool:
    """Whether a delegation's scope reaches `account` (None: a change not tied to an account)."""
    return bool(delegation["all_accounts"]) or account is None or account in delegation["accounts"]


def authority_of(person: Row, delegations: list[Row], account: str | None,
                 today: str) -> str | None:
    """The strongest authority `person` holds for `account`: ceo, trustee or delegation:<id>."""
    if person["status"] != "active":
        return None
    if person["category"] in APPROVER_CATEGORIES:
        return str(person["category"])
    for delegation in delegations:
        if delegation_in_force(delegation, today) and delegation_covers(delegation, account):
            return f"delegation:{delegation['id']}"
    return None


def require_authority(person: Row, delegations: list[Row], account: str | None,
                      today: str) -> str:
    """As authority_of, but a plain refusal naming what is missing."""
    authority = authority_of(person, delegations, account, today)
    if authority:
        return authority
    if person["status"] != "active":
        raise Refused(f"{person['id']} has left and can no longer approve or change anything")
    scope = f" for {account}" if account else ""
    raise Refused(
        f"{person['id']} is not the CEO, a trustee or a delegate{scope}, "
        "so cannot approve access or change the register"
    )


def refuse_self_approval(approver: str, grantee: str) -> None:
    """Nobody approves (or reviews) access for themselves."""
    if approver == grantee:
        raise Refused(
            f"{approver} cannot approve their own access; another approver must do it"
        )


def require_ceo(person: Row, action: str) -> None:
    """Some acts are the CEO's alone (granting delegations)."""
    if person["category"] != "ceo" or person["status"] != "active":
        raise Refused(f"only the CEO can {action}; {person['id']} is not the CEO")


def require_board_or_ceo(person: Row, action: str) -> None:
    """Acts for the CEO or a trustee (revoking delegations, enrolling or resetting MFA)."""
    if person["category"] not in APPROVER_CATEGORIES or person["status"] != "active":
        raise Refused(f"only the CEO or a trustee can {action}; {person['id']} is neither")


def is_set_up(register: Register) -> bool:
    """True once the CEO has confirmed MFA: from then on every change needs proof."""
    return bool(register.setting("bootstrapped_at"))


def operator_authority(op: Operation, account: str | None) -> str:
    """The operator's authority for `account`, or a refusal."""
    delegations = delegations_of(op.register, op.operator["id"])
    return require_authority(op.operator, delegations, account, op.today)


def require_approver(op: Operation, account: str | None = None) -> str:
    """An approver (within scope of `account`) who has proved themselves with MFA."""
    granted = operator_authority(op, account)
    prove(op)
    return granted


def require_editor(op: Operation, account: str | None = None) -> str:
    """Who may change people and accounts: anyone during set-up, approvers after."""
    if not is_set_up(op.register):
        return SETUP_ACTOR
    return require_approver(op, account)
