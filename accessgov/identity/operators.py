"""Operators as OpenBao identities: what an administrator sets up, and how an operator enrols
and logs in (the register's side of it is accessgov.identity.enrolment and .login).

An administrator of the OpenBao server (whoever holds a token with its administrative
policies, e.g. the charity's IT volunteer) runs `accessgov store ...`: the set-up, each
operator's user, entity and signing key, an enrolment code for their authenticator, and the
reset, disabling and enabling of an operator. Those acts are recorded in OpenBao's own audit
log; the decisions they carry out (an MFA reset, an offboarding) are the register's, recorded
in its log by the approver who made them.

An operator enrols their authenticator themselves, with the enrolment code: OpenBao makes the
TOTP key for their own entity and shows it once, and never again to anyone. They then log in
with their password and a code; the token is their session.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from accessgov.errors import InputError

if TYPE_CHECKING:
    from accessgov.secrets.config import BackendConfig
    from accessgov.secrets.openbao.client import OpenBaoClient
    from accessgov.secrets.openbao.layout import Layout
    from accessgov.secrets.openbao.mfa import Enrolment


@dataclasses.dataclass
class Administration:
    """An administrator's token on the OpenBao server of one organisation."""

    client: OpenBaoClient
    layout: Layout

    @classmethod
    def of(cls, config: BackendConfig, token: str) -> Administration:
        """Reach the organisation's OpenBao (as `config` describes it) with `token`."""
        from accessgov.secrets.openbao.backend import DEFAULT_AUTH_MOUNT
        from accessgov.secrets.openbao.client import OpenBaoClient
        from accessgov.secrets.openbao.layout import Layout

        settings = config.settings
        url = settings.get("vault_url")
        if not url:
            raise InputError("give the OpenBao address with --vault-url (or VAULT_ADDR)")
        client = OpenBaoClient(url, token, namespace=settings.get("vault_namespace"),
                               cacert=settings.get("vault_cacert"))
        layout = Layout.of(config, auth_mount=str(
            settings.get("openbao_auth_mount") or DEFAULT_AUTH_MOUNT))
        return cls(client, layout)

    def setup(self) -> tuple[str, ...]:
        """Enable what accessgov needs and write its policies (again is harmless); returns
        warnings for the administrator."""
        from accessgov.secrets.openbao import setup

        return setup.setup(self.client, self.layout).warnings

    def add_operator(self, person: str, password: str) -> str:
        """Make `person` an operator (user, entity, signing key); returns their first
        enrolment code, to hand to them."""
        from accessgov.secrets.openbao import operators

        operators.create_operator(self.client, self.layout, person, password)
        return operators.enrolment_token(self.client, person)

    def invite(self, person: str) -> str:
        """A new enrolment code for `person` (after their MFA was reset)."""
        from accessgov.secrets.openbao import operators

        return operators.enrolment_token(self.client, person)

    def reset_mfa(self, person: str) -> None:
        """Destroy `person`'s TOTP key: they log in again only once they enrol again."""
        from accessgov.secrets.openbao import operators

        operators.destroy_mfa(self.client, person)

    def disable(self, person: str) -> None:
        """Stop `person` at once: no login, and every token of theirs ends for good."""
        from accessgov.secrets.openbao import operators

        operators.disable_operator(self.client, self.layout, person)

    def enable(self, person: str) -> None:
        """Let `person` log in again (old tokens stay revoked)."""
        from accessgov.secrets.openbao import operators

        operators.enable_operator(self.client, person)


def enrol(config: BackendConfig, enrolment_code: str) -> Enrolment:
    """Make the operator's own TOTP key with the enrolment code an administrator gave them;
    the key is shown once, here, and never again to anyone."""
    from accessgov.secrets.openbao import mfa

    return mfa.enrol(Administration.of(config, enrolment_code.strip()).client)


