"""Named queries of operators' MFA enrolments."""

from __future__ import annotations

from accessgov.db.register import Register, Row

_BY_PERSON = "SELECT * FROM mfa WHERE person = ?"


def state(register: Register, person: str) -> Row | None:
    """A person's MFA enrolment (checked while a change runs), if any."""
    return register.sealed_row("mfa", _BY_PERSON, (person,))


def claimed_state(register: Register, person: str) -> Row | None:
    """A person's MFA enrolment as the file holds it, unchecked: only for counting a rejected
    code against them after the change was undone, never for a decision."""
    return register.row(_BY_PERSON, (person,))


def summary(register: Register, person: str) -> Row | None:
    """What `person show` says of someone's MFA."""
    return register.row(
        "SELECT status, enrolled_at, confirmed_at, locked_until FROM mfa WHERE person = ?",
        (person,))


def others_with_board_mfa(register: Register, person: str) -> int:
    """How many active CEOs and trustees other than `person` have confirmed MFA."""
    return int(register.value(
        "SELECT COUNT(*) FROM people p JOIN mfa m ON m.person = p.id "
        "WHERE p.status = 'active' AND p.category IN ('ceo', 'trustee') "
        "AND m.status = 'confirmed' AND p.id != ?", (person,)))
