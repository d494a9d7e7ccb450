"""The exceptions accessgov raises, each carrying the exit code the CLI gives it.

Messages are plain English for the person at the keyboard and never contain a secret.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What accessgov's exit status means, for scripts and for people."""

    OK = 0
    FINDINGS = 1  # a check found problems (policy check, audit verify)
    INPUT = 2  # usage or input error: unknown id, bad date, malformed file
    REFUSED = 3  # no authority, self-approval, missing or wrong code, lock-out, tampering
    UNAVAILABLE = 4  # the secret store cannot be used, or the register is busy
    UNEXPECTED = 70  # a bug: the traceback went to a file (EX_SOFTWARE)
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class AccessGovError(Exception):
    """Something the user can fix: bad input, an unknown id, a refused action."""

    exit_code = ExitCode.INPUT


class InputError(AccessGovError):
    """The input is malformed or names something that does not fit (exit 2)."""


class NotFound(InputError):
    """An id names no record in the register."""


class AlreadyExists(InputError):
    """An id or record is already in the register."""


class Refused(AccessGovError):
    """The operator lacks the authority or MFA proof for this action (exit 3)."""

    exit_code = ExitCode.REFUSED


class MfaRequired(Refused):
    """The action needs a TOTP code or an open session, and none was given."""


class MfaFailed(Refused):
    """The TOTP code given was wrong, expired or already used."""


class LockedOut(Refused):
    """Too many wrong codes in a row: the person must wait."""


class Tampered(Refused):
    """A record was written behind the log (it fails its seal): nothing trusts it."""


class BackendUnavailable(AccessGovError):
    """The secret store cannot be used: unreachable, sealed, locked or forbidden (exit 4)."""

    exit_code = ExitCode.UNAVAILABLE


class RegisterBusy(AccessGovError):
    """Another accessgov process held the register for longer than the busy timeout (exit 4)."""

    exit_code = ExitCode.UNAVAILABLE

