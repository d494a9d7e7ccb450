"""Set up OpenBao for accessgov, once, with an administrator's token (see `layout`).

Every step reads what is there and writes only what is missing or differs, so running the
set-up again is harmless and repairs a changed policy, method or role. Mounts the organisation
already has are used as they are, if they are of the right kind.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from accessgov.errors import InputError
from accessgov.secrets.openbao import policies
from accessgov.secrets.openbao.client import OpenBaoClient
from accessgov.secrets.openbao.layout import (
    ENROL_POLICY,
    MFA_METHOD_NAME,
    TOKEN_MOUNT,
    TOTP_DIGITS,
    TOTP_ISSUER,
    TOTP_KEY_BYTES,
    TOTP_MAX_ATTEMPTS,
    TOTP_PERIOD_SECONDS,
    TOTP_SKEW_STEPS,
    Layout,
)

TOTP_SETTINGS: dict[str, Any] = {
    "method_name": MFA_METHOD_NAME,
    "issuer": TOTP_ISSUER,
    "period": TOTP_PERIOD_SECONDS,
    "digits": TOTP_DIGITS,
    "algorithm": "SHA1",
    "skew": TOTP_SKEW_STEPS,
    "key_size": TOTP_KEY_BYTES,
    "max_validation_attempts": TOTP_MAX_ATTEMPTS,
    # No PNG in the answer: accessgov draws the QR code from the otpauth URL itself.
    "qr_size": 0,
}


@dataclasses.dataclass(frozen=True)
class SetupResult:
    """What the set-up found or made, and what an administrator should still fix."""

    method_id: str
    login_accessor: str
    token_accessor: str
    warnings: tuple[str, ...]


def setup(admin: OpenBaoClient, layout: Layout) -> SetupResult:
    """Make (or check) the mounts, the Login MFA method and its enforcement on the login
    mount, and the policies for `layout`'s organisation."""
    login_accessor = _auth_mount(admin, layout.auth_mount)
    token_accessor = auth_accessor(admin, TOKEN_MOUNT)
    _secrets_engine(admin, layout.kv_mount, "kv", {"version": "2"})
    _secrets_engine(admin, layout.transit_mount, "transit", {})
    _secrets_engine(admin, layout.totp_mount, "totp", {})
    method_id = _totp_method(admin)
    admin.write(f"identity/mfa/login-enforcement/{layout.enforcement}", {
        "mfa_method_ids": [method_id],
        "auth_method_accessors": [login_accessor],
    }, what="writing the Login MFA enforcement")
    _policy(admin, layout.operator_policy, policies.operator_policy(layout))
    _policy(admin, ENROL_POLICY, policies.enrol_policy())
    return SetupResult(method_id, login_accessor, token_accessor, _warnings(admin))


def auth_accessor(admin: OpenBaoClient, mount: str) -> str:
    """The accessor of the auth method mounted at `mount` (InputError if there is none)."""
    entry = _auth_mounts(admin).get(mount.strip("/") + "/")
    if entry is None:
        raise InputError(f"OpenBao has no auth method at auth/{mount}: run the set-up first")
    return str(entry["accessor"])


def auth_type(admin: OpenBaoClient, mount: str) -> str:
    """The type of the auth method mounted at `mount` ("userpass", "ldap" ...)."""
    entry = _auth_mounts(admin).get(mount.strip("/") + "/")
    if entry is None:
        raise InputError(f"OpenBao has no auth method at auth/{mount}: run the set-up first")
    return str(entry["type"])


def totp_method_id(client: OpenBaoClient) -> str | None:
    """The id of accessgov's TOTP method, found by its name (None if there is none yet)."""
    status, body = client.request("LIST", "identity/mfa/method/totp")
    if status == 404:
        return None
    if status != 200 or body is None:
        raise client.failure(status, body, "listing the TOTP methods")
    # The list holds the parent namespaces' methods too: only this namespace's is ours.
    here = client.namespace or ""
    for method_id, info in ((body.get("data") or {}).get("key_info") or {}).items():
        if isinstance(info, dict) and info.get("name") == MFA_METHOD_NAME \
                and str(info.get("namespace_path") or "").strip("/") == here:
            return str(method_id)
    return None


def _auth_mounts(admin: OpenBaoClient) -> dict[str, Any]:
    body = admin.read("sys/auth", what="reading the auth methods") or {}
    return dict(body.get("data") or {})


def _auth_mount(admin: OpenBaoClient, mount: str) -> str:
    """The login mount's accessor, enabling userpass there if nothing is mounted yet."""
    if mount.strip("/") + "/" not in _auth_mounts(admin):
        admin.write(f"sys/auth/{mount}", {"type": "userpass"},
                    what=f"enabling userpass at auth/{mount}")
    return auth_accessor(admin, mount)


def _secrets_engine(admin: OpenBaoClient, mount: str, kind: str, options: dict[str, str]) -> None:
    mounts = (admin.read("sys/mounts", what="reading the secrets engines") or {}).get("data") or {}
    entry = mounts.get(mount + "/")
    if entry is None:
        admin.write(f"sys/mounts/{mount}", {"type": kind, "options": options},
                    what=f"enabling {kind} at {mount}/")
        return
    found = entry.get("type")
    version = (entry.get("options") or {}).get("version")
    if found != kind or (kind == "kv" and version != "2"):
        what = "KV version 1" if found == "kv" else f"a {found} engine"
        raise InputError(
            f"OpenBao's {mount}/ is {what}, not {'KV version 2' if kind == 'kv' else kind}:"
            " name another mount for accessgov"
            + (f" or upgrade it (bao kv enable-versioning {mount}/)" if found == "kv" else ""))


def _totp_method(admin: OpenBaoClient) -> str:
    method_id = totp_method_id(admin)
    if method_id is None:
        body = admin.write("identity/mfa/method/totp", TOTP_SETTINGS,
                           what="creating the TOTP method")
        return str((body.get("data") or {})["method_id"])
    admin.write(f"identity/mfa/method/totp/{method_id}", TOTP_SETTINGS,
                what="updating the TOTP method")
    return method_id


def _policy(admin: OpenBaoClient, name: str, text: str) -> None:
    current = admin.read(f"sys/policies/acl/{name}", what=f"reading policy {name}",
                         missing_ok=True)
    if current is None or (current.get("data") or {}).get("policy") != text:
        admin.write(f"sys/policies/acl/{name}", {"policy": text}, what=f"writing policy {name}")


def _warnings(admin: OpenBaoClient) -> tuple[str, ...]:
    """Server settings that undo the guarantees, found by trying them."""
    status, _ = admin.request("LIST", "sys/raw")
    if status == 200:
        return ("OpenBao's raw storage endpoint (sys/raw) is on: a root token can read TOTP"
                " seeds and signing keys through it. Turn it off (raw_storage_endpoint = false,"
                " the default; 'bao server -dev' turns it on).",)
    return ()
