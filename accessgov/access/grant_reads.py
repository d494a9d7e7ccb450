"""Reading grants with their approval records: all that `grant list` and `grant show` need.

Kept apart from `access.grants`, which changes grants, so that reading loads none of the rules
and seals a change needs: the list is run many times a day from a shell.
"""

from __future__ import annotations

from accessgov.common import validate
from accessgov.db.queries import accounts, people
from accessgov.db.queries import grants as grant_rows
from accessgov.db.register import Register, Row

STATUSES = ("pending", "active", "declined", "revoked", "expired")


def list_grants(register: Register, today: str, *, person: str | None = None,
                account: str | None = None, status: str | None = None) -> list[Row]:
    """Grants with their approval records, oldest first."""
    if person:
        people.get(register, person)  # an unknown id is a typo, not an empty answer
    if account:
        accounts.get(register, account)
    if status:
        validate.one_of(status, STATUSES, "status")
    return grant_rows.listing(register, today, person=person, account=account, status=status)


def get_grant(register: Register, grant_id: str, today: str) -> Row:
    """One grant with its approval record, or NotFound."""
    return grant_rows.with_approval(register, grant_id, today)
