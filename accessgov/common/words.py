"""Plain English for counts: "1 row", "2 rows"."""

from __future__ import annotations


def count(number: int, noun: str, plural: str | None = None) -> str:
    """`number` and `noun`, in the plural unless it is one (`plural` when not noun + s)."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
