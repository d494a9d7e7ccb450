"""Operators who cannot act as one another: what accessgov keeps in OpenBao, and where.

The design (issue 13). In the vault/OpenBao mode no operator secret is readable by any
token, not even the operator's own:

- **Identity.** Each operator is an OpenBao entity named `accessgov-<person>`, with metadata
  `accessgov_person=<person>` and two aliases named `<person>`: one on the login mount (a
  userpass user whose username is the person id, unless the organisation names another auth
  mount) and one on the token mount, used only by enrolment tokens. Only an administrator can
  change an entity or its metadata.
- **Login is OpenBao's Login MFA.** A TOTP method named `accessgov` (SHA1, 6 digits, 30 s,
  one step of skew) and a login enforcement on the login mount's accessor: that mount issues no
  token without a valid code. OpenBao keeps the seed behind its barrier; `generate` hands it out
  once, to the entity's own token, and no API path reads it back (only `sys/raw`, which OpenBao
  leaves off unless configured, but `bao server -dev` turns on: set-up warns about it).
- **Enrolment.** The enforcement also stops a password-only login, so a first (or reset) TOTP
  key is made with an enrolment token that an administrator mints through the operator's own
  token role `accessgov-enrol-<person>`: tied to the operator's entity (`entity_alias`, the
  only one the role allows), short-lived, a few uses, and with only the `accessgov-enrol`
  policy. If anyone else used it first, OpenBao answers "already has a secret" and `enrol`
  refuses, so a stolen enrolment shows.
- **Authority.** The policy `accessgov-operator-<org>` is attached to the userpass user
  (token_policies), not to the entity, so enrolment tokens never get it. It is templated:
  `transit/sign/accessgov-{{identity.entity.metadata.accessgov_person}}` lets a token sign
  with its own entity's key only. It also lets every operator read all public keys, work in
  the organisation's KV area, and read and write (never delete) the chain head.
- **Signatures.** Each operator has a transit key `accessgov-<person>` of type ed25519,
  exportable=false and allow_plaintext_backup=false: OpenBao signs, nobody can take the key.
  Verification is local (`cryptography`), from public keys fetched once.
- **Time** is OpenBao's (`sys/health` `server_time_utc`); a local clock more than two minutes
  off is refused.
- **The chain head** is a small record in KV v2 at `<prefix>/<org>/audit/head`, written with
  check-and-set. Operators cannot delete or destroy its versions or metadata, so its KV version
  only goes up: a register that records the version each change wrote, restored from an old
  copy, shows as behind the head, even if an insider wrote an old head's content back.
- **Off-boarding.** Disabling the entity makes OpenBao refuse every request made with any of
  its tokens at once; revoking by the login path and the enrolment role's path removes those
  tokens for good.

What an administrator (root) can still do is replace, never read: destroy a TOTP key and
enrol a new one, reset a password, or make a key exportable (one way; `signing.
keys_that_can_leave` shows it). The first two show, since the operator's own code or password
stops working.

Known limits of OpenBao 2.x, found in its source (vault/login_mfa.go) and tried on a server:
a wrong code, a reused code and too many attempts all answer the same "permission denied";
used codes are remembered in memory per method (a restart forgets them) and keyed by method
and code, not by entity; `admin-destroy` unlinks a seed but leaves it in storage until the
next enrolment overwrites it; inside a namespace the single-phase `X-Vault-MFA` header needs
the method's full name (`team-a/accessgov`), and listing methods also lists the parent
namespaces'. Transit key names are per person, so two organisations sharing one namespace
share their operators' keys: give each organisation its own namespace.

This module holds the names; `client` talks to OpenBao; `setup` and `operators` are for an
administrator's token; `mfa`, `signing`, `clock` and `head` are what an operator's token does.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from accessgov.errors import InputError

if TYPE_CHECKING:
    from accessgov.secrets.config import BackendConfig

MFA_METHOD_NAME = "accessgov"
TOTP_ISSUER = "accessgov"
TOTP_PERIOD_SECONDS = 30
TOTP_DIGITS = 6
TOTP_SKEW_STEPS = 1
TOTP_KEY_BYTES = 20  # 160 bits, as RFC 4226 recommends
TOTP_MAX_ATTEMPTS = 5  # wrong codes in a row before OpenBao refuses for one period

ENROL_POLICY = "accessgov-enrol"
PERSON_METADATA = "accessgov_person"
KEY_PREFIX = "accessgov-"
TOKEN_MOUNT = "token"
HEAD_PATH = "audit/head"

# A person id as accessgov's slugs allow it, but ending in a letter or digit, as OpenBao's
# names for transit keys and userpass users must.
_PERSON = re.compile(r"[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?")
_ORG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_MOUNT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


def check_person(person: str) -> str:
    """`person` if OpenBao can name a user, an alias and a transit key after it."""
    if not _PERSON.fullmatch(person):
        raise InputError(
            f"person id {person!r} cannot name an OpenBao operator: use lower-case letters,"
            " digits, '.', '_' or '-', starting and ending with a letter or digit"
        )
    return person


def key_name(person: str) -> str:
    """The transit key that signs for `person`."""
    return KEY_PREFIX + check_person(person)


def enrol_role(person: str) -> str:
    """The token role that mints `person`'s enrolment tokens (and theirs only)."""
    return f"{ENROL_POLICY}-{check_person(person)}"


def entity_name(person: str) -> str:
    """The identity entity of `person`."""
    return KEY_PREFIX + check_person(person)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where one organisation's accessgov lives in an OpenBao namespace (no secrets)."""

    org: str
    kv_mount: str = "secret"
    prefix: str = "accessgov"
    auth_mount: str = "userpass"
    transit_mount: str = "transit"
    totp_mount: str = "totp"

    def __post_init__(self) -> None:
        if not _ORG.fullmatch(self.org):
            raise InputError(f"organisation id {self.org!r} cannot name an OpenBao policy")
        for name in ("kv_mount", "prefix", "auth_mount", "transit_mount", "totp_mount"):
            value = getattr(self, name).strip("/")
            if not _MOUNT.fullmatch(value) or ".." in value.split("/"):
                raise InputError(f"{name.replace('_', ' ')} {value!r} is not a usable path")
            object.__setattr__(self, name, value)

    @classmethod
    def of(cls, config: BackendConfig, *, auth_mount: str = "userpass",
           transit_mount: str = "transit") -> Layout:
        """The layout of the register whose vault settings are `config`."""
        return cls(org=config.org_slug, kv_mount=config.vault_mount or "secret",
                   prefix=config.vault_prefix or "accessgov", auth_mount=auth_mount,
                   transit_mount=transit_mount,
                   totp_mount=config.settings.get("vault_totp_mount") or "totp")

    @property
    def operator_policy(self) -> str:
        """The policy every operator of this organisation holds."""
        return f"accessgov-operator-{self.org}"

    @property
    def enforcement(self) -> str:
        """The Login MFA enforcement that guards the login mount."""
        return f"accessgov-{self.auth_mount.replace('/', '-')}"

    @property
    def area(self) -> str:
        """The organisation's folder inside the KV mount (as accessgov's vault backend has it)."""
        return f"{self.prefix}/{self.org}"

    def kv_data(self, path: str) -> str:
        """The API path of a KV v2 secret below the organisation's area."""
        return f"{self.kv_mount}/data/{self.area}/{path}"

    def login_path(self, person: str) -> str:
        """The API path an operator logs in at."""
        return f"auth/{self.auth_mount}/login/{check_person(person)}"

    def sign_path(self, person: str) -> str:
        """The API path that signs with `person`'s key."""
        return f"{self.transit_mount}/sign/{key_name(person)}"

    def key_path(self, person: str) -> str:
        """The API path of `person`'s transit key (public keys and settings)."""
        return f"{self.transit_mount}/keys/{key_name(person)}"
