"""An operator's own MFA in OpenBao: enrol a TOTP key once, then log in with password and
code, the code checked by OpenBao's Login MFA (see `layout`). accessgov never sees a seed
again after enrolment, and no token can read one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import urllib.parse

from accessgov.errors import InputError, MfaFailed, MfaRequired, Refused
from accessgov.secrets.openbao.client import OpenBaoClient, OpenBaoError, OpenBaoRefused
from accessgov.secrets.openbao.layout import MFA_METHOD_NAME, TOTP_DIGITS, Layout, check_person
from accessgov.secrets.openbao.setup import totp_method_id

_CODE = re.compile(f"[0-9]{{{TOTP_DIGITS}}}")
_ALREADY_ENROLLED = "already has a secret"


class AlreadyEnrolled(Refused):
    """The entity already has a TOTP key: OpenBao will not make (or show) another."""


@dataclasses.dataclass(frozen=True)
class Enrolment:
    """A new TOTP key, shown once: `url` (otpauth://, for a QR code) holds `key` (base32).
    Neither may be stored anywhere."""

    url: str
    key: str

    def __repr__(self) -> str:
        return "Enrolment(<shown once, not printed>)"


@dataclasses.dataclass(frozen=True)
class Session:
    """An operator's OpenBao token after login, and when OpenBao will stop honouring it."""

    person: str
    token: str
    entity_id: str
    lease_seconds: int

    def __repr__(self) -> str:
        return f"Session(person={self.person!r}, lease_seconds={self.lease_seconds})"


def enrol(enrolment: OpenBaoClient) -> Enrolment:
    """Make the TOTP key of the entity that owns the client's token (an enrolment token from
    `operators.enrolment_token`, or the operator's own); AlreadyEnrolled if it has one."""
    method_id = totp_method_id(enrolment)
    if method_id is None:
        raise InputError("OpenBao has no accessgov TOTP method: run the set-up first")
    body = enrolment.write("identity/mfa/method/totp/generate", {"method_id": method_id},
                           what="making your TOTP key")
    url = (body.get("data") or {}).get("url")
    if not url:
        if any(_ALREADY_ENROLLED in str(warning) for warning in body.get("warnings") or []):
            raise AlreadyEnrolled(
                "OpenBao already holds a TOTP key for you: if you did not enrol it, someone"
                " else did; ask an administrator to destroy it and give you a new enrolment")
        raise Refused("OpenBao made no TOTP key for this token (it belongs to no entity)")
    key = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("secret", [""])[0]
    return Enrolment(url=url, key=key)


def login(client: OpenBaoClient, layout: Layout, person: str, password: str,
          code: str | None, *, ttl: dt.timedelta | None = None) -> Session:
    """Log `person` in with password and TOTP code in one request (OpenBao's single-phase
    Login MFA header); with `ttl`, the token then lasts that long (at most the 12-hour cap)."""
    check_person(person)
    headers = {}
    if code:
        if not _CODE.fullmatch(code):
            raise MfaFailed(f"a code is {TOTP_DIGITS} digits, as the authenticator app shows")
        # OpenBao names a method by its full name, the namespace's path before it.
        namespace = f"{client.namespace}/" if client.namespace else ""
        headers["X-Vault-MFA"] = f"{namespace}{MFA_METHOD_NAME}:{code}"
    anonymous = client.with_token(None)
    what = f"{person}'s login"
    try:
        body = anonymous.write(layout.login_path(person), {"password": password},
                               what=what, headers=headers)
    except OpenBaoRefused as refused:
        raise MfaFailed(
            f"OpenBao refused {what}: the code is wrong or was already used, too many wrong"
            " codes came in a row (wait a minute), or the operator is disabled") from refused
    except OpenBaoError as error:
        if error.status == 400:
            raise Refused(f"OpenBao refused {what} ({error.detail})") from error
        raise
    auth = body.get("auth") or {}
    if auth.get("mfa_requirement") or not auth.get("client_token"):
        raise MfaRequired(f"{what} needs the {TOTP_DIGITS}-digit code from the authenticator app")
    session = Session(person, str(auth["client_token"]), str(auth.get("entity_id") or ""),
                      int(auth.get("lease_duration") or 0))
    return session if ttl is None else renew(client.with_token(session.token), session, ttl)


def renew(own: OpenBaoClient, session: Session, ttl: dt.timedelta) -> Session:
    """Set the session to end `ttl` from now (shorter or longer, within OpenBao's cap)."""
    body = own.write("auth/token/renew-self", {"increment": f"{int(ttl.total_seconds())}s"},
                     what=f"setting the length of {session.person}'s session")
    lease = int((body.get("auth") or {}).get("lease_duration") or 0)
    return dataclasses.replace(session, lease_seconds=lease)


def logout(own: OpenBaoClient) -> None:
    """Revoke the client's own token."""
    own.write("auth/token/revoke-self", {}, what="ending the session")


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """Whose a token is and for how much longer, as OpenBao sees it (`auth/token/lookup-self`)."""

    entity_id: str
    person: str | None  # the login name; None for an enrolment token or one from elsewhere
    ttl_seconds: int
    policies: tuple[str, ...]


def whoami(own: OpenBaoClient) -> TokenInfo:
    """The client's own token as OpenBao sees it (OpenBaoRefused once revoked or expired)."""
    data = (own.read("auth/token/lookup-self", what="looking up your token") or {}).get(
        "data") or {}
    person = (data.get("meta") or {}).get("username")
    return TokenInfo(
        entity_id=str(data.get("entity_id") or ""),
        person=str(person) if person else None,
        ttl_seconds=int(data.get("ttl") or 0),
        policies=tuple(str(policy) for policy in data.get("policies") or []),
    )
