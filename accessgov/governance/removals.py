"""The to-do list of platform removals (`accessgov todo`).

A grant ends in the register (revoked, revoked by a review, or past its last day) long before
anyone is taken off the Facebook Page: the register cannot do that part. Every such grant is an
open item, with the platform's own steps, until an approver for the account ticks it. Items are
read from the grants as they stand (expiry at read time), so none can be lost between commands;
a leaver's grants are on their offboarding checklist instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessgov.common import validate
from accessgov.db.queries import accounts, removals
from accessgov.db.queries import grants as grant_rows
from accessgov.db.register import Register, Row
from accessgov.errors import InputError
from accessgov.governance.offboarding import removal_item
from accessgov.identity.authority import authorise

if TYPE_CHECKING:
    from accessgov.operation import Operation

COLUMNS = ("grant_id", "account", "platform", "person", "person_name", "role", "ended",
           "ended_on", "action", "steps")


def todo(register: Register, today: str, *, account: str | None = None) -> list[dict[str, Any]]:
    """Every platform removal nobody has ticked, oldest ending first, with its steps."""
    return [_item(row) for row in removals.open_items(register, today, account=account)]


def _item(row: Row) -> dict[str, Any]:
    who = f"{row['person_name']} ({row['person']})"
    grant = {"id": row["grant_id"], "account": row["account"], "platform": row["platform"],
             "handle": row["handle"], "access": row["access"], "role": row["role"],
             "status": "active", "expires": row["ended_on"]}
    made = removal_item(grant, who)
    why = (f"revoked on {row['ended_on']} by {row['revoked_by']}: {row['revoke_reason']}"
           if row["ended"] == "revoked" else
           f"expired on {row['ended_on']} in the register, not on the platform")
    return {key: row[key] for key in COLUMNS if key in row} | {
        "action": f"{made['action']}; {why}", "steps": made["steps"]}


def tick(op: Operation, grant_ids: list[str], note: str | None) -> list[str]:
    """An approver for each account confirms the person is off the platform."""
    note = validate.text(note, "note") if note is not None else None
    for grant_id in grant_ids:
        grant = grant_rows.get(op.register, grant_id)
        if not removals.open_items(op.register, op.today, grant_id=grant_id):
            raise InputError(_not_on_the_list(op, grant))
        account = accounts.get(op.register, grant["account"])
        # A tick says the person is off the platform: never by them, nor by someone they
        # put in place (the grant makes them the one it favours).
        used = authorise(op, "todo.done", grant_id, account=account, concerned=grant["person"],
                         grant=grant)
        proof = op.proof
        op.register.insert("platform_removals", {
            "grant_id": grant_id, "done_by": op.operator["id"], "done_at": op.at,
            "authority": str(used), "verified_by": proof.describe() if proof else None,
            "note": note})
        op.record("todo.done", grant_id, person=grant["person"], account=grant["account"],
                  role=grant["role"], note=note)
    return grant_ids


def _not_on_the_list(op: Operation, grant: Row) -> str:
    done = removals.ticked(op.register, grant["id"])
    if done is not None:
        return (f"{grant['id']}'s removal was already ticked on {done['done_at'][:10]} by "
                f"{done['done_by']}")
    if grant["status"] in ("pending", "declined"):
        return f"{grant['id']} is {grant['status']}: it never gave access, so nothing to remove"
    if grant["status"] == "active" and not (grant["expires"] and grant["expires"] < op.today):
        return (f"{grant['id']} is still active: revoke it first ('accessgov grant revoke "
                f"{grant['id']} --reason ...')")
    return (f"{grant['id']} is not on the to-do list: it is on {grant['person']}'s offboarding "
            "checklist, or it had ended before it was imported")
