"""Checks on user-typed values, each failing with a plain message that names the field."""

from __future__ import annotations

import re
from collections.abc import Iterable

from accessgov.errors import InputError

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
RESERVED_IDS = {"mfa", "audit"}  # these names are used for paths in the secret store


def slug(value: str, what: str) -> str:
    """An id such as `vperkins` or `instagram-main`: lower case letters, digits, . _ -."""
    if not _SLUG.match(value) or value in RESERVED_IDS:
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


def email(value: str, what: str = "email") -> str:
    """A plausible email address."""
    value = value.strip()
    if not _EMAIL.match(value):
        raise InputError(f"{what} {value!r} does not look like an email address")
    return value


def phone(value: str, what: str = "phone number") -> str:
    """A plausible phone number (digits, spaces, +, brackets, dashes)."""
    value = value.strip()
    if not _PHONE.match(value):
        raise InputError(f"{what} {value!r} does not look like a phone number")
    return value


def text(value: str, what: str, *, max_length: int = 500) -> str:
    """Free text that is not blank and not absurdly long."""
    value = value.strip()
    if not value:
        raise InputError(f"{what} cannot be empty")
    if len(value) > max_length:
        raise InputError(f"{what} is too long ({len(value)} characters; at most {max_length})")
    return value
