"""The secret store's address: what the register keeps of it, and moving it (`accessgov store
show` / `store set-address`).

A Vault or OpenBao server moves (a new host name, https at last). The register keeps the
address it was given at init, so VAULT_ADDR set later changes nothing; an approver changes it,
with MFA, and the change is audited. The change itself runs against the new address: the
operator's code is checked there, the audit key read from there and the chain head compared
with the record there, so only the same store (restored or moved) is accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessgov.common import validate
from accessgov.db.register import Register
from accessgov.errors import InputError
from accessgov.identity.authority import authorise

if TYPE_CHECKING:
    from accessgov.operation import Operation

ADDRESSED = ("vault", "openbao")  # the backends with an address


def describe(register: Register) -> dict[str, Any]:
    """Where the register's secrets are (no secret, no token)."""
    settings = register.settings()
    backend = settings.get("backend")
    found: dict[str, Any] = {"backend": backend, "org_slug": settings.get("backend_org_slug")}
    for name, value in sorted(settings.items()):
        if name.startswith("backend_") and name != "backend_org_slug":
            found[name.removeprefix("backend_")] = value
    return found


def check_address(backend: str | None, url: str, insecure_http: bool) -> str:
    """The new address in canonical spelling, or InputError."""
    if backend not in ADDRESSED:
        raise InputError(f"this register keeps its secrets in the {backend} store, which has "
                         "no address to change")
    url = validate.one_line(url, "address").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InputError(f"{url!r} is not an http:// or https:// address")
    from accessgov.secrets.vault import refuse_plain_http

    refuse_plain_http(url, insecure_http)
    return url


def set_address(op: Operation, url: str) -> str:
    """Record the store's new address (the change already runs against it); returns the old."""
    org = op.register.setting("org_slug") or "register"
    authorise(op, "store.address", org)
    # Through the checked path: an address changed behind the log is refused, not resealed.
    row = op.register.sealed_row("settings", "SELECT * FROM settings WHERE key = ?",
                                 ("backend_vault_url",))
    before = row["value"] if row else ""
    if before == url:
        raise InputError(f"the register already uses {url}")
    op.register.set_setting("backend_vault_url", url)
    op.record("store.address", org, before=before, after=url)
    return before
