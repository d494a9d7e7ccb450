"""Lookups every table shares: one record by its id, and the next short id of a table."""

from __future__ import annotations

from accessgov.common.validate import MAX_NUMBER
from accessgov.db.register import Register, Row
from accessgov.errors import InputError, NotFound, Tampered


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
    """The number after the highest of `table`'s short ids (G-0001 is number 1).

    Only numbers from 1 to MAX_NUMBER count: the next after one beyond (written behind the
    log, or imported before imports were bounded) would overflow the database's integer.
    When the highest is MAX_NUMBER itself (an import may give any number up to it), the next
    is the lowest number not used, so numbering goes on while any number is free."""
    top = register.value(f"SELECT MAX(num) FROM {table} WHERE num BETWEEN 1 AND ?",
                         (MAX_NUMBER,))
    if top is None:
        return 1
    if int(top) < MAX_NUMBER:
        return int(top) + 1
    if register.value(f"SELECT 1 FROM {table} WHERE num = 1") is None:
        return 1
    free = register.value(f"SELECT MIN(num) + 1 FROM {table} AS used "
                          f"WHERE num BETWEEN 1 AND ? AND NOT EXISTS "
                          f"(SELECT 1 FROM {table} WHERE num = used.num + 1)",
                          (MAX_NUMBER - 1,))
    if free is None:
        raise InputError(f"every number from 1 to {MAX_NUMBER:,} is used in {table}")
    return int(free)


def require_children(register: Register, child: str, parent_key: str) -> None:
    """While a change runs: refuse when rows of `child` belonging to `parent_key` are missing
    (or extra) against the count its parent's sealed row vouches for, i.e. were deleted or
    inserted behind the log. Call it before the change itself adds or removes such rows."""
    if register.verifier is None:
        return
    from accessgov.db import seals  # only a change checks counts: reading stays light

    parent_table, column = seals.COUNTED[child]
    assert not seals.children_written(register, parent_table, parent_key), \
        f"{child} of {parent_key} were written in this change before their count was checked"
    parent = register.sealed_row(parent_table, f"SELECT * FROM {parent_table} WHERE id = ?",
                                 (parent_key,))
    counts = seals.parse_counts(parent["counts"]) if parent else None
    if counts is None:
        return  # created by this change, so nothing of it can be missing yet
    held = int(register.value(f"SELECT COUNT(*) FROM {child} WHERE {column} = ?",
                              (parent_key,)))
    if held != counts.get(child, 0):
        raise Tampered(
            f"the register was changed outside accessgov: {parent_key} should have "
            f"{counts.get(child, 0)} {child} record(s) by its sealed count, and the register "
            f"holds {held} (rows deleted or inserted behind the log); nothing that rests on "
            "them can be decided; run 'accessgov audit verify'")
