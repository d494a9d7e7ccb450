"""The read path of a change: every row a decision rests on is checked as it is read.

While a change runs, the Register hands each whole row of a sealed table it reads to the
change's `Verifier` (see `Register.sealed_row`). A row written behind the log fails its seal;
a row put back from an older copy names an older event than the log's latest about it; both
are refused before any decision can rest on them. The domain never checks rows itself: it
asks `accessgov.db.queries` for them and gets them checked.
"""

from __future__ import annotations

from accessgov.db import seals
from accessgov.db.register import Register, Row


class Verifier:
    """Checks the sealed rows one change reads, each once."""

    def __init__(self, register: Register, row_key: bytes) -> None:
        self._register = register
        self._key = row_key
        self._vouched: set[tuple[str, str]] = set()  # rows this change found sealed

    def check(self, table: str, row: Row) -> Row:
        """`row` if it carries accessgov's seal and is current; Tampered otherwise. A row this
        change already found sealed, or created itself, is trusted though the change has
        written to it since."""
        key = (table, seals.row_key(table, row))
        if key in self._vouched or seals.created_here(self._register, *key):
            return row
        seals.require_sealed(self._key, self._register, table, row)
        seals.require_current(self._register, table, row)
        self._vouched.add(key)
        return row
