"""The policy's own upkeep: its annual review, and the settings the policy checks use.

"The Senior Management Team are responsible for monitoring and reviewing this policy and
associated arrangements at least annually" ("Monitoring and Reviewing"): `policy reviewed`
records each review, and `check` reports when none is recorded for a year.
"""

from __future__ import annotations

from typing import Any

from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.db.queries import policy
from accessgov.db.register import Register, Row
from accessgov.db.seals import strip
from accessgov.errors import InputError
from accessgov.governance.checks.credentials import DEFAULT_MAX_AGE_DAYS, MAX_AGE_SETTING
from accessgov.identity.authority import authorise
from accessgov.identity.proof import prove
from accessgov.operation import Operation

# name on the command line -> (settings key, default, description)
SETTINGS = {
    "credential-max-age-days": (
        MAX_AGE_SETTING, DEFAULT_MAX_AGE_DAYS,
        "the longest a shared credential may go without rotation before 'check' reports it"),
}
MAX_DAYS = 3650

# Where reminders are e-mailed from (accessgov remind --send): name -> (settings key, what).
# The password is a secret: it goes to the store (`policy set smtp-password`, asked for).
EMAIL_SETTINGS = {
    "smtp-host": ("smtp_host", "the mail server's host name"),
    "smtp-port": ("smtp_port", "its port (587 unless changed)"),
    "smtp-from": ("smtp_from", "the address reminders come from"),
    "smtp-user": ("smtp_user", "the user name to sign in with (none: no sign-in)"),
    "smtp-starttls": ("smtp_starttls", "yes (the default) to encrypt with STARTTLS; no only "
                                       "for a server on this machine"),
    "smtp-cacert": ("smtp_cacert", "a CA bundle for the server's certificate (default: the "
                                   "system's)"),
}
SMTP_PASSWORD = "smtp-password"
SMTP_PASSWORD_PATH = "smtp/password"  # in the secret store
SMTP_PASSWORD_VERSION = "smtp_password_version"
DEFAULT_SMTP_PORT = 587


def record_review(op: Operation, reviewed_on: str, board_minute: str | None) -> Row:
    """Record that the policy was reviewed on `reviewed_on` (not in the future)."""
    day = parse_date(reviewed_on, "--date")
    if day > op.today:
        raise InputError(f"--date {day} is in the future; record a review once it has happened")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    authority = authorise(op, "policy.review", "policy")
    proof = prove(op)
    review_id, number = op.next_id("policy_reviews", "PR")
    row = {"id": review_id, "num": number, "reviewed_on": day, "board_minute": minute,
           "recorded_by": op.operator["id"], "authority": str(authority),
           "verified_by": proof.describe(), "at": op.at}
    op.register.insert("policy_reviews", row)
    op.record("policy.review", review_id, reviewed_on=day, board_minute=minute,
              authority=str(authority))
    return row


def change_setting(op: Operation, name: str, value: str) -> tuple[str, str]:
    """Change one of the checks' or the e-mail settings; returns (old value, new value)."""
    if name in EMAIL_SETTINGS:
        return _change_email_setting(op, name, value)
    if name not in SETTINGS:
        raise InputError(f"there is no setting {name!r}; choose one of: {', '.join(SETTINGS)}")
    key, default, _ = SETTINGS[name]
    if not validate.digits(value) or not 1 <= int(value) <= MAX_DAYS:
        raise InputError(f"{name} must be a whole number of days from 1 to {MAX_DAYS}, "
                         f"not {validate.shown(value)}")
    authorise(op, "policy.setting", key)
    old = op.register.setting(key) or str(default)
    op.register.set_setting(key, str(int(value)))
    op.record("policy.setting", key, before=old, after=str(int(value)))
    return old, str(int(value))


def _change_email_setting(op: Operation, name: str, value: str) -> tuple[str, str]:
    key, _ = EMAIL_SETTINGS[name]
    value = validate.one_line(value, name).strip()
    if name == "smtp-port" and not (validate.digits(value) and 1 <= int(value) <= 65535):
        raise InputError(f"smtp-port must be a port number from 1 to 65535, not "
                         f"{validate.shown(value)}")
    if name == "smtp-starttls":
        value = validate.one_of(value.lower(), ("yes", "no"), name)
    if name == "smtp-from":
        value = validate.email(value, name)
    authorise(op, "policy.setting", key)
    old = op.register.setting(key) or ""
    op.register.set_setting(key, value)
    op.record("policy.setting", key, before=old, after=value)
    return old, value


def set_smtp_password(op: Operation, password: str) -> int:
    """Keep the mail server's password in the secret store (never in the register); its new
    version."""
    authorise(op, "policy.setting", SMTP_PASSWORD_VERSION)
    store = op.store
    version = op.write_secret(SMTP_PASSWORD_PATH, password,
                              expect_version=store.current_version(SMTP_PASSWORD_PATH))
    op.register.set_setting(SMTP_PASSWORD_VERSION, str(version))
    op.record("policy.setting", SMTP_PASSWORD_VERSION, after=str(version),
              location=store.location(SMTP_PASSWORD_PATH))
    return version


def email_settings(register: Register) -> dict[str, Any]:
    """Where reminders are sent from (never the password: only whether one is stored)."""
    stored = register.settings()
    found: dict[str, Any] = {name.removeprefix("smtp-"): stored.get(key) or None
                             for name, (key, _) in EMAIL_SETTINGS.items()}
    found["port"] = int(found["port"]) if found["port"] else DEFAULT_SMTP_PORT
    found["starttls"] = found["starttls"] != "no"
    version = stored.get(SMTP_PASSWORD_VERSION)
    found["password"] = f"in the secret store (version {version})" if version else "none"
    return found


def policy_status(register: Register) -> dict[str, Any]:
    """The recorded policy reviews, newest first, and the checks' settings."""
    reviews = [strip(row) for row in policy.reviews(register)]
    for review in reviews:
        del review["num"]
    stored = register.settings()
    settings = [{"name": name, "value": _stored_number(stored.get(key), default),
                 "default": default, "meaning": meaning}
                for name, (key, default, meaning) in SETTINGS.items()]
    return {"reviews": reviews, "settings": settings, "email": email_settings(register)}


def _stored_number(value: str | None, default: int) -> int:
    """A setting as stored; the default for a value that is not a number (written behind
    the log: `check` then reads the default too)."""
    return int(value) if value and validate.digits(value) else default
