"""Checks on user-typed values, each failing with a plain message that names the field."""

from __future__ import annotations

import re
from collections.abc import Iterable

from accessgov.errors import InputError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
RESERVED_IDS = {"mfa", "audit"}  # these names are used for paths in the secret store

# What must never be stored in a one-line field nor reach a terminal raw: C0 and C1 controls
# and DEL (line breaks, tabs, cursor moves, colours, OSC window titles, CR overwriting a line),
# the Unicode line and paragraph separators, bidirectional marks, overrides and isolates (they
# reorder what is shown), and lone surrogates (bytes that were not UTF-8: they cannot even be
# encoded for the register or for output).
UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)


def slug(value: str, what: str) -> str:
    """An id such as `vperkins` or `instagram-main`: lower case letters, digits, . _ -."""
    if not _SLUG.fullmatch(value) or value in RESERVED_IDS:
        raise InputError(
            f"{what} {value!r} is not a usable id: use lower-case letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
            + (" (that name is reserved)" if value in RESERVED_IDS else "")
        )
    return value


def one_of(value: str, choices: Iterable[str], what: str) -> str:
    """`value` if it is one of `choices`, else a message listing them."""
    options = list(choices)
    if value not in options:
        raise InputError(f"{what} {value!r} is not known; choose one of: {', '.join(options)}")
    return value


def one_line(value: str, what: str) -> str:
    """`value` unless it holds a control character, a line break or another character that
    could change how a line is shown (see UNSAFE); the message names it safely."""
    found = UNSAFE.search(value)
    if found:
        char = found.group()
        if char in "\n\r\u2028\u2029":
            problem = "a line break (it must fit on one line)"
        elif "\ud800" <= char <= "\udfff":
            problem = "bytes that are not UTF-8 text"
        else:
            problem = f"a control character ({ascii(char)[1:-1]})"
        raise InputError(f"{what} cannot hold {problem}")
    return value


def email(value: str, what: str = "email") -> str:
    """A plausible email address."""
    value = one_line(value.strip(), what)
    if not _EMAIL.fullmatch(value):
        raise InputError(f"{what} {value!r} does not look like an email address")
    return value


def phone(value: str, what: str = "phone number") -> str:
    """A plausible phone number (digits, spaces, +, brackets, dashes)."""
    value = value.strip()
    if not _PHONE.fullmatch(value):
        raise InputError(f"{what} {value!r} does not look like a phone number")
    return value


def text(value: str, what: str, *, max_length: int = 500) -> str:
    """Free text on one line (names, titles, reasons, notes...): not blank, not absurdly long,
    with no control characters or line breaks, which could fake a line of a record or of the
    audit log when shown (multi-line text is allowed nowhere: every view shows one line)."""
    value = one_line(value.strip(), what)
    if not value:
        raise InputError(f"{what} cannot be empty")
    if len(value) > max_length:
        raise InputError(f"{what} is too long ({len(value)} characters; at most {max_length})")
    return value
