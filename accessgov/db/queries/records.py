"""Lookups every table shares: one record by its id, and the next short id of a table."""

from __future__ import annotations

from accessgov.db.register import Register, Row
from accessgov.errors import NotFound


def by_id(register: Register, table: str, what: str, record_id: str) -> Row:
    """The whole row of `table` with this id (checked while a change runs), or NotFound
    naming it as `what` ("person", "grant"), so every command says the same about a typo."""
    row = register.sealed_row(table, f"SELECT * FROM {table} WHERE id = ?", (record_id,))
    if row is None:
        raise NotFound(f"there is no {what} {record_id!r} in the register")
    return row


def exists(register: Register, table: str, record_id: str) -> bool:
    """Whether `table` has a row with this id."""
    return register.row(f"SELECT 1 FROM {table} WHERE id = ?", (record_id,)) is not None


def next_number(register: Register, table: str) -> int:
    """The number after the highest of `table`'s short ids (G-0001 is number 1)."""
    return int(register.value(f"SELECT MAX(num) FROM {table}") or 0) + 1
