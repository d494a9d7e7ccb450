"""Checks on user-typed values, each failing with a plain message that names the field."""

from __future__ import annotations

import re
from collections.abc import Iterable

from accessgov.errors import InputError

# Patterns as text, matched through `re`'s own cache: compiled when first used, so a command
# that checks nothing compiles nothing (start-up is the product).
_SLUG = r"[a-z0-9][a-z0-9._-]{0,63}"
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_PHONE = r"\+?[0-9 ()-]{6,20}"
RESERVED_IDS = {"mfa", "audit"}  # these names are used for paths in the secret store

# Every numbered id (G-0001, D-0001, O-0001, PR-0001, S-0001) and every number typed has at most
# MAX_DIGITS digits: far within SQLite's and PostgreSQL's 64-bit integers (so MAX(num) + 1 can
# never overflow), and Python's int() is never given the thousands of digits it refuses.
MAX_DIGITS = 9
MAX_NUMBER = 10**MAX_DIGITS - 1
# ASCII digits only: str.isdigit() also takes '²' (which int() refuses) and full-width or
# Arabic-Indic digits (which int() reads as 0-9): none is how anyone writes an id or a number.
_DIGITS = r"[0-9]+"
_SHOWN = 40  # how much of a value a message quotes

# What must never be stored in a one-line field nor reach a terminal raw: C0 and C1 controls
# and DEL (line breaks, tabs, cursor moves, colours, OSC window titles, CR overwriting a line),
# the Unicode line and paragraph separators, bidirectional marks, overrides and isolates (they
# reorder what is shown), and lone surrogates (bytes that were not UTF-8: they cannot even be
# encoded for the register or for output).
UNSAFE = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"


def slug(value: str, what: str) -> str:
    """An id such as `vperkins` or `instagram-main`: lower case letters, digits, . _ -."""
    if not re.fullmatch(_SLUG, value) or value in RESERVED_IDS:
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
    found = re.search(UNSAFE, value)
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
    if not re.fullmatch(_EMAIL, value):
        raise InputError(f"{what} {value!r} does not look like an email address")
    return value


def phone(value: str, what: str = "phone number") -> str:
    """A plausible phone number (digits, spaces, +, brackets, dashes)."""
    value = value.strip()
    if not re.fullmatch(_PHONE, value):
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


def shown(value: str) -> str:
    """`value` quoted for a message, cut short when long (a message stays one readable line)."""
    if len(value) <= _SHOWN:
        return repr(value)
    return f"{value[:_SHOWN // 2]!r}... ({len(value):,} characters)"


def digits(value: str, max_digits: int = MAX_DIGITS) -> bool:
    """Whether `value` is 1 to `max_digits` of the digits 0-9 (and nothing else): what may be
    given to int()."""
    return len(value) <= max_digits and re.fullmatch(_DIGITS, value) is not None


def whole_number(value: str, what: str, *, minimum: int = 0, maximum: int = MAX_NUMBER,
                 at_most: bool = False) -> int:
    """A whole number written with the digits 0-9, from `minimum` to `maximum`; with
    `at_most`, a bigger one is `maximum` (a limit on a listing: more than all is all)."""
    text = value.strip()
    if not re.fullmatch(_DIGITS, text):
        raise InputError(f"{what} must be a whole number written with the digits 0-9, "
                         f"not {shown(value)}")
    if len(text.lstrip("0")) > len(str(maximum)):  # before int(), which refuses 4,301 digits
        if at_most:
            return maximum
        raise InputError(f"{what} is too big ({len(text):,} digits; at most {maximum:,})")
    number = int(text)
    if at_most and number > maximum:
        return maximum
    if not minimum <= number <= maximum:
        raise InputError(f"{what} must be from {minimum:,} to {maximum:,}, not {number:,}")
    return number


def id_number(value: object, prefix: str) -> int | None:
    """The number of an id like G-0042 (42) with this prefix, or None when `value` is not one:
    the prefix, '-', and 1 to MAX_DIGITS of the digits 0-9."""
    if not isinstance(value, str) or not value.startswith(f"{prefix}-"):
        return None
    number = value[len(prefix) + 1:]
    return int(number) if digits(number) else None


def short_id(value: str, prefix: str, what: str) -> str:
    """`value` if it is written like an id of this kind (G-0001 for a grant), else a message
    saying how such an id is written, or that it is too long."""
    if id_number(value, prefix) is not None:
        return value
    number = value[len(prefix) + 1:] if value.startswith(f"{prefix}-") else ""
    if re.fullmatch(_DIGITS, number):
        raise InputError(f"{shown(value)} is not a {what} id: it has {len(number):,} digits; "
                         f"a {what} id has at most {MAX_DIGITS} (e.g. {prefix}-0001)")
    raise InputError(f"{shown(value)} is not a {what} id: write {prefix}- and up to "
                     f"{MAX_DIGITS} of the digits 0-9, e.g. {prefix}-0001")
