"""How many rows each table of the register holds (a backup's manifest, and its check)."""

from __future__ import annotations

from accessgov.db.register import Register


def row_counts(register: Register) -> dict[str, int]:
    """Every table of the register and its number of rows, by name."""
    names = sorted(name for name in register.table_names() if not name.startswith("sqlite_"))
    # Table names come from the database's own catalogue, never from a user.
    return {name: int(register.value(f'SELECT COUNT(*) FROM "{name}"') or 0) for name in names}
