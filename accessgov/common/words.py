"""Plain English for counts: "1 row", "2 rows"."""

from __future__ import annotations


def count(number: int, noun: str, plural: str | None = None) -> str:
    """`number` and `noun`, in the plural unless it is one (`plural` when not noun + s)."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def a_category(category: str) -> str:
    """A person's category with its article: "the CEO", "an employee", "a volunteer"."""
    if category == "ceo":
        return "the CEO"
    return f"{'an' if category[:1] in 'aeiou' else 'a'} {category}"
