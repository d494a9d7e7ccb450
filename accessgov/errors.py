"""The exceptions accessgov raises, each carrying the exit code the CLI gives it.

Messages are plain English for the person at the keyboard and never contain a secret.
"""

from __future__ import annotations


class AccessGovError(Exception):
    """Something the user can fix: bad input, an unknown id, a refused action."""

    exit_code = 2


class InputError(AccessGovError):
    """The input is malformed or names something that does not fit (exit 2)."""


class NotFound(InputError):
    """An id names no record in the register."""


class AlreadyExists(InputError):
    """An id or record is already in the register."""


class Refused(AccessGovError):
    """The operator lacks the authority or MFA proof for this action (exit 3)."""

    exit_code = 3


class MfaRequired(Refused):
    """The action needs a TOTP code or an open session, and none was given."""


class MfaFailed(Refused):
    """The TOTP code given was wrong, expired or already used."""


class LockedOut(Refused):
    """Too many wrong codes in a row: the person must wait."""


class BackendUnavailable(AccessGovError):
    """The secret store cannot be used: unreachable, sealed, locked or forbidden (exit 4)."""

    exit_code = 4


class RegisterBusy(AccessGovError):
    """Another accessgov process held the register for longer than the busy timeout (exit 4)."""

    exit_code = 4


class Findings(AccessGovError):
    """A check found problems (exit 1): audit verify, policy checks."""

    exit_code = 1
