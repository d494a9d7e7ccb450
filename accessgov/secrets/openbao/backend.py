"""The `openbao` secret backend: KV v2 in OpenBao, reached with each operator's OWN token.

Unlike the `vault` backend, whose one token every operator shares, this backend is used with
the token the operator got from `accessgov login` (OpenBao's Login MFA: their password and
their authenticator code), and it is also how accessgov knows who acts: the token's login
name is the operator. Every change is signed with the operator's own transit key, and its time
is OpenBao's. There is no audit key and no operator seed in KV (see `layout` for the design).

Reads of secrets go through the vault backend's standard-library path; writes, signatures,
the server's clock and token look-ups through `OpenBaoClient`: no hvac in any command an
operator runs every day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from accessgov.errors import Refused
from accessgov.secrets import vault
from accessgov.secrets.base import VersionConflict, check_value
from accessgov.secrets.openbao.layout import Layout
from accessgov.secrets.spec import InitOption, Settings

if TYPE_CHECKING:  # the client loads http.client and ssl: only when OpenBao is reached
    from accessgov.secrets.config import BackendConfig
    from accessgov.secrets.openbao.client import OpenBaoClient
    from accessgov.secrets.openbao.signing import PublicKeys

SUMMARY = ("OpenBao with each operator their own identity: login with password and "
           "authenticator code (OpenBao's Login MFA), every change signed with the operator's "
           "own key; set up first with 'accessgov store setup'.")
DEFAULT_AUTH_MOUNT = "userpass"
OPTIONS = (
    *vault.OPTIONS,
    InitOption("openbao_auth_mount", "The OpenBao auth mount operators log in with.",
               default=DEFAULT_AUTH_MOUNT),
)
_CAS_MISMATCH = "check-and-set parameter did not match"


def configure(given: Mapping[str, str | None]) -> Settings:
    """At init: the vault settings, and the auth mount operators log in with."""
    return vault.configure(given) | _auth(given)


def read_settings(stored: Mapping[str, str | None]) -> Settings:
    """The vault settings and the auth mount."""
    return vault.read_settings(stored) | _auth(stored)


def _auth(given: Mapping[str, str | None]) -> Settings:
    mount = given.get("openbao_auth_mount") or DEFAULT_AUTH_MOUNT
    return {"openbao_auth_mount": vault.check_vault_path(mount, "--openbao-auth-mount")}


def open_store(config: BackendConfig) -> OpenBaoBackend:
    """The store `config` describes; OpenBao is not contacted yet."""
    return OpenBaoBackend(config)


class OpenBaoBackend(vault.VaultBackend):
    """KV v2 with the operator's own token, and what only their token can do: say who they
    are, sign, and read the server's clock."""

    name = "openbao"
    signs = True  # changes are signed by their actors: there is no audit key

    def __init__(self, config: BackendConfig) -> None:
        super().__init__(config)
        self.layout = Layout.of(config, auth_mount=str(
            config.settings.get("openbao_auth_mount") or DEFAULT_AUTH_MOUNT))
        self._client: OpenBaoClient | None = None
        self._public_keys: dict[str, PublicKeys] = {}
        self._operator: str | None = None
        self._client_token: str | None = None

    # -- whose token -------------------------------------------------------------------------

    def use_token(self, token: str) -> None:
        """Act with this token (the operator's session) rather than VAULT_TOKEN."""
        self._token_value = token
        self._operator = None

    @property
    def client(self) -> OpenBaoClient:
        """The operator's client (their token), on one kept-alive connection."""
        token = self._token()
        if self._client is None:
            from accessgov.secrets.openbao.client import OpenBaoClient

            self._client = OpenBaoClient(self._url, token, namespace=self._namespace,
                                         cacert=self._cacert)
        elif self._client_token != token:
            self._client = self._client.with_token(token)
        self._client_token = token
        return self._client

    def anonymous(self) -> OpenBaoClient:
        """A client with no token, on the same connection (for a login)."""
        if self._client is None:
            from accessgov.secrets.openbao.client import OpenBaoClient

            self._client = OpenBaoClient(self._url, None, namespace=self._namespace,
                                         cacert=self._cacert)
            self._client_token = None
        return self._client.with_token(None)

    def operator(self) -> str:
        """The person the token belongs to: its login name on the operators' auth mount.
        Refused for a token that is not an operator's login (an administrator's, a revoked or
        expired one)."""
        if self._operator is None:
            from accessgov.secrets.openbao import mfa
            from accessgov.secrets.openbao.client import OpenBaoRefused

            try:
                info = mfa.whoami(self.client)
            except OpenBaoRefused:
                raise Refused("OpenBao no longer honours your login (it expired, was revoked or "
                              "your operator was disabled): log in again with 'accessgov login "
                              "--as PERSON'") from None
            if info.person is None or self.layout.operator_policy not in info.policies:
                raise Refused("the OpenBao token in use is not an operator's login: log in with "
                              "'accessgov login --as PERSON' (password and authenticator code)")
            self._operator = info.person
        return self._operator

    def login(self, person: str, password: str, code: str, ttl: dt.timedelta) -> str:
        """Log `person` in with their password and a code from their authenticator (OpenBao's
        Login MFA); returns the new token, which this store then acts with."""
        from accessgov.secrets.openbao import mfa

        session = mfa.login(self.anonymous(), self.layout, person, password, code, ttl=ttl)
        self.use_token(session.token)
        return session.token

    def logout(self) -> None:
        """Revoke the token in use (the session's)."""
        from accessgov.secrets.openbao import mfa

        mfa.logout(self.client)

    # -- signatures and time ------------------------------------------------------------------

    def sign(self, person: str, message: bytes) -> str:
        """`message` signed with `person`'s own key (only their token may)."""
        from accessgov.secrets.openbao import signing

        return signing.sign(self.client, self.layout, person, message)

    def signature_problem(self, person: str, message: bytes, signature: str) -> str | None:
        """Why `signature` is not `person`'s over `message`, if it is not (public keys are
        read from OpenBao once per process)."""
        from accessgov.secrets.openbao import signing

        if person not in self._public_keys:
            self._public_keys[person] = signing.public_keys(self.client, self.layout, person)
        if not self._public_keys[person]:
            return f"{person} has no signing key in OpenBao"
        if not signing.verify(self._public_keys[person], message, signature):
            return f"it was not made with {person}'s key"
        return None

    def openbao(self) -> tuple[OpenBaoClient, Layout]:
        """The operator's own client and the organisation's layout: the server's clock and
        the chain head are read and moved with the operator's token."""
        return self.client, self.layout

    # -- writing with the standard library --------------------------------------------------

    def write(self, path: str, value: str, *, expect_version: int,
              metadata: dict[str, str] | None = None) -> int:
        """A check-and-set write; VersionConflict if the current version is not the expected."""
        from accessgov.secrets.openbao.client import OpenBaoError

        check_value(value)
        try:
            body = self.client.write(self._api_path("data", path),
                                     {"data": {"value": value}, "options": {"cas": expect_version}},
                                     what=f"writing {self.location(path)}")
            version = int((body.get("data") or {})["version"])
        except OpenBaoError as error:
            if error.status == 400 and _CAS_MISMATCH in error.detail:
                raise VersionConflict(vault._conflict_message(self.location(path),
                                                              expect_version)) from None
            raise
        if metadata:
            self.annotate(path, metadata)
        return version

    def discard(self, path: str, version: int) -> None:
        """Destroy one version for good."""
        self.client.write(self._api_path("destroy", path), {"versions": [version]},
                          what=f"discarding version {version} of {self.location(path)}")

    def delete(self, path: str) -> None:
        """Delete the metadata and every version."""
        self.client.delete(self._api_path("metadata", path),
                           what=f"deleting {self.location(path)}")

    def annotate(self, path: str, metadata: dict[str, str]) -> None:
        """Replace the custom metadata other clients see beside the secret."""
        self.client.write(self._api_path("metadata", path), {"custom_metadata": metadata},
                          what=f"describing {self.location(path)}")

    def _api_path(self, kind: str, path: str) -> str:
        return f"{self._mount}/{kind}/{self._full(path)}"

