"""Named queries of the policy's recorded annual reviews."""

from __future__ import annotations

from accessgov.db.register import Register, Row


def reviews(register: Register) -> list[Row]:
    """Every recorded policy review, newest first."""
    return register.rows("SELECT * FROM policy_reviews ORDER BY reviewed_on DESC, num DESC")

