"""The record-level rules: pure functions of rows, in one place.

Each rule answers for one record what the one-by-one commands and the import both ask: may
this person hold access, may they still act, is there already a CEO, do two delegations
overlap, does someone assign an account to themselves. A rule returns the problem in plain
words (or None when there is none), so a command raises it and an import lists it against its
row; neither spells the rule again. Who may do what (the rule table) is in
`accessgov.identity.authority`, which calls these too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from accessgov.common import actors

APPROVER_CATEGORIES = ("ceo", "trustee")
# Account fields that say who answers for an account (owner, overseer, recovery contacts).
ACCOUNTABLE_FIELDS = ("owner", "overseer", "recovery_email", "recovery_phone")

Record = Mapping[str, Any]


def is_approver_category(category: str | None) -> bool:
    """Trustees and the CEO approve by their category alone."""
    return category in APPROVER_CATEGORIES


def reserved_id(person_id: str) -> str | None:
    """The audit log's names for actors that are not people cannot be people's ids."""
    meaning = {actors.SETUP: "anyone during set-up", actors.SYSTEM: "accessgov itself",
               actors.UNKNOWN: "an actor it could not identify"}
    if person_id in meaning:
        return (f"{person_id!r} cannot be a person's id: the audit log uses it for "
                f"{meaning[person_id]}")
    return None


def cannot_act(person: Record) -> str | None:
    """Someone who has left can no longer do anything in the register."""
    if person["status"] != "active":
        return f"{person['id']} has left and can no longer act in the register"
    return None


def cannot_hold(person: Record | None, account: Record | None, *,
                consequence: str | None = None) -> tuple[str, str] | None:
    """(which, why) when `person` may not be given access to `account`: a leaver, or an
    archived account. `which` is "person" or "account", the field at fault; `consequence`
    words what therefore cannot happen (default: access cannot be granted)."""
    if person is not None and person["status"] != "active":
        return "person", (f"{person['id']} has left; "
                          f"{consequence or 'access cannot be granted to them'}")
    if account is not None and account["status"] != "active":
        return "account", (f"{account['id']} is archived; "
                           f"{consequence or 'access cannot be granted to it'}")
    return None


def second_ceo(active_ceos: Iterable[str], person_id: str, category: str) -> str | None:
    """There is one active CEO at a time: making `person_id` one while another is active."""
    if category != "ceo":
        return None
    other = next((ceo for ceo in active_ceos if ceo != person_id), None)
    if other is None:
        return None
    return f"{other} is already the active CEO; there can be only one"


def delegation_in_force(delegation: Record, today: str) -> bool:
    """Not revoked, started, and not past its end date."""
    return (
        not delegation["revoked_at"]
        and delegation["valid_from"] <= today
        and (not delegation["valid_until"] or today <= delegation["valid_until"])
    )


def delegation_current(delegation: Record, today: str) -> bool:
    """Not revoked and not over: in force now, or still to come."""
    until = delegation["valid_until"]
    return not delegation["revoked_at"] and (not until or until >= today)


def delegations_overlap(first: Record, second: Record) -> bool:
    """Whether two delegations' dates share a day (an open end runs for ever)."""
    return (
        (not first["valid_until"] or not second["valid_from"]
         or second["valid_from"] <= first["valid_until"])
        and (not second["valid_until"] or first["valid_from"] <= second["valid_until"])
    )


def overlapping_delegation(held: Iterable[Record], new: Record, today: str) -> Record | None:
    """A current delegation of the same person whose dates overlap `new`'s: one delegation at
    a time per person, so a second is a mistake."""
    return next((other for other in held if other.get("id") != new.get("id")
                 and delegation_current(other, today) and delegations_overlap(other, new)),
                None)


def self_assignment(operator: Record, field: str, value: str | None) -> str | None:
    """Nobody makes themselves an account's owner, overseer or recovery contact."""
    if value is None:
        return None
    mine = value == operator["id"] or (
        field == "recovery_email" and value.lower() == operator["email"].lower())
    if not mine:
        return None
    return (f"{operator['id']} cannot make themselves the {field.replace('_', ' ')} of an "
            "account")
