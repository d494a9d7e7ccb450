"""Shared credentials of official accounts: kept in the secret store, overseen in the register.

The policy: passwords and login arrangements are under the CEO's and Board's oversight and
are never shared inappropriately. So the register records, for every credential, where it
lives and which version is current, and for every person, which version they could know
(an exposure): by revealing it, by taking a code from its seed, or by holding a grant on a
shared-login account. The secret itself exists only in the store and on the stdout of the
person who asked for it.
"""

from __future__ import annotations

import binascii
import secrets
import string
from typing import TYPE_CHECKING, Any

from accessgov.access import exposures
from accessgov.db.queries import accounts
from accessgov.db.queries import credentials as credential_rows
from accessgov.db.register import Register, Row
from accessgov.errors import InputError, NotFound
from accessgov.identity.authority import authorise
from accessgov.secrets.base import SecretNotFound

if TYPE_CHECKING:
    from accessgov.operation import Operation

KINDS = ("password", "recovery-codes", "totp-seed", "api-token")
MAX_SECRET_CHARS = 16_384
GENERATED_ALPHABET = string.ascii_letters + string.digits + "!#%*+-=?@^_~"
MIN_GENERATED_LENGTH, MAX_GENERATED_LENGTH = 12, 128


def secret_path(account: str, kind: str) -> str:
    """Where a credential lives in the store, below the organisation's area."""
    return f"{account}/{kind}"


# -- input ----------------------------------------------------------------------------------

def clean_secret(kind: str, value: str) -> str:
    """The secret as it will be stored, or an InputError that never quotes it."""
    if kind not in KINDS:
        raise InputError(f"kind {kind!r} is not known; choose one of: {', '.join(KINDS)}")
    value = value.removesuffix("\n").removesuffix("\r") if kind != "recovery-codes" \
        else value.strip()
    if not value.strip():
        raise InputError("the secret is empty; nothing was stored")
    if len(value) > MAX_SECRET_CHARS:
        raise InputError(f"the secret is longer than {MAX_SECRET_CHARS} characters")
    if kind == "totp-seed":
        value = _clean_totp_seed(value.strip())
    return value


def _clean_totp_seed(value: str) -> str:
    """A base32 seed (spaces allowed) or a full otpauth://totp/ URI, checked to work."""
    if value.lower().startswith("otpauth://"):
        if not value.lower().startswith("otpauth://totp/"):
            raise InputError("only time-based (otpauth://totp/) links are supported")
        stored = value
    else:
        stored = value.replace(" ", "").upper().rstrip("=")
    try:
        platform_totp(stored).now()
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise InputError("that is not a TOTP seed: expected base32 (letters A-Z and digits "
                         "2-7, at least 16 characters) or an otpauth://totp/ link") from None
    return stored


def platform_totp(stored: str) -> Any:
    """A pyotp TOTP for a platform's seed: base32, or an otpauth:// URI with its own digits,
    period and algorithm. Platforms still hand out 80-bit seeds, which pyotp's default
    (112 bits, right for the seeds we make ourselves) would refuse."""
    import hashlib
    from urllib.parse import parse_qs, urlparse

    import pyotp

    class PlatformTOTP(pyotp.TOTP):
        min_secret_length_bits = 80

    if not stored.startswith("otpauth://"):
        return PlatformTOTP(stored)
    query = {key: values[0] for key, values in parse_qs(urlparse(stored).query).items()}
    algorithm = query.get("algorithm", "SHA1").lower()
    if algorithm not in ("sha1", "sha256", "sha512"):
        raise ValueError("unsupported algorithm")
    return PlatformTOTP(query["secret"].upper().rstrip("="),
                        digits=int(query.get("digits", 6)),
                        interval=int(query.get("period", 30)),
                        digest=getattr(hashlib, algorithm))


def generate_password(length: int) -> str:
    """A random password from the `secrets` module, with every character class present."""
    if not MIN_GENERATED_LENGTH <= length <= MAX_GENERATED_LENGTH:
        raise InputError(f"--length must be between {MIN_GENERATED_LENGTH} and "
                         f"{MAX_GENERATED_LENGTH}")
    while True:
        candidate = "".join(secrets.choice(GENERATED_ALPHABET) for _ in range(length))
        classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits,
                   "!#%*+-=?@^_~")
        if all(any(c in group for c in candidate) for group in classes):
            return candidate


def otp_code(stored_seed: str, now_timestamp: float) -> tuple[str, int]:
    """The current code of a stored seed, and how many seconds it stays valid."""
    totp = platform_totp(stored_seed)
    interval = int(totp.interval)
    return str(totp.at(int(now_timestamp))), interval - int(now_timestamp) % interval


# -- queries --------------------------------------------------------------------------------


def list_credentials(register: Register, account: str | None = None) -> list[Row]:
    """Credential metadata with who has been exposed to each current version."""
    if account:
        accounts.get(register, account)
    return credential_rows.listing(register, account)


def resolve_kind(register: Register, account: str, kind: str | None) -> str:
    """The kind asked for, or the account's only credential, or its password."""
    if kind:
        if kind not in KINDS:
            raise InputError(f"kind {kind!r} is not known; choose one of: {', '.join(KINDS)}")
        return kind
    kinds = credential_rows.kinds_of(register, account)
    if len(kinds) == 1:
        return str(kinds[0])
    if "password" in kinds:
        return "password"
    if not kinds:
        raise NotFound(f"{account} has no credentials in the register")
    raise InputError(f"{account} has several credentials; choose one with --kind "
                     f"({', '.join(sorted(kinds))})")


# -- authority ------------------------------------------------------------------------------

def _require_manager(op: Operation, action: str, account: Row) -> str:
    """Approvers within scope, or the account's owner, with MFA."""
    return str(authorise(op, action, account["id"], account=account))


def _require_holder(op: Operation, action: str, account: Row) -> str | None:
    """A live grant on the account, or ownership, with MFA; returns the grant id."""
    return authorise(op, action, account["id"], account=account).grant


# -- changes ----------------------------------------------------------------------------------

def set_credential(op: Operation, account_id: str, kind: str, secret: str, *,
                   seen: bool = True) -> Row:
    """Store a first secret for an account and record where it lives. `seen`: the operator
    typed it (or was shown it), so they are recorded as knowing it."""
    account = _live_account(op.register, account_id)
    secret = clean_secret(kind, secret)
    if credential_rows.get(op.register, account_id, kind):
        raise InputError(f"{account_id} already has a {kind}; use 'accessgov cred rotate "
                         f"{account_id} --kind {kind}' to change it")
    authority = _require_manager(op, "cred.set", account)
    version = _write(op, account, kind, secret, recorded=0, authority=authority, how="set")
    store = op.store
    op.register.insert("credentials", {
        "account": account_id, "kind": kind, "backend": store.name,
        "reference": store.location(secret_path(account_id, kind)), "version": version,
        "set_by": op.operator["id"], "set_at": op.at,
    })
    return _recorded(op, account, kind, version, "set", authority, seen=seen)


def rotate_credential(op: Operation, account_id: str, kind: str, secret: str, *,
                      seen: bool = True) -> Row:
    """Store a new version; exposures to earlier versions stop counting against it. `seen`:
    the operator typed the new secret or was shown it (not a generated one kept unseen)."""
    account = _live_account(op.register, account_id)
    secret = clean_secret(kind, secret)
    current = credential_rows.get(op.register, account_id, kind)
    if current is None:
        raise NotFound(f"{account_id} has no {kind} yet; use 'accessgov cred set' first")
    authority = _require_manager(op, "cred.rotate", account)
    version = _write(op, account, kind, secret, recorded=current["version"],
                     authority=authority, how="rotate")
    op.register.update("credentials", {"id": current["id"]}, {
        "version": version, "rotated_by": op.operator["id"], "rotated_at": op.at,
    })
    return _recorded(op, account, kind, version, "rotate", authority,
                     previous=current["version"], seen=seen)


def adopt_credential(op: Operation, account_id: str, kind: str) -> Row:
    """Record a secret that was put in the store by another tool (e.g. `bao kv put`)."""
    account = _live_account(op.register, account_id)
    if kind not in KINDS:
        raise InputError(f"kind {kind!r} is not known; choose one of: {', '.join(KINDS)}")
    authority = _require_manager(op, "cred.adopt", account)
    store = op.store
    path = secret_path(account_id, kind)
    latest = store.current_version(path)
    current = credential_rows.get(op.register, account_id, kind)
    recorded = current["version"] if current else 0
    try:
        found = store.read(path, latest) if latest else None
    except SecretNotFound:
        found = None
    if found is None:
        raise NotFound(f"the store holds no {kind} for {account_id} at "
                       f"{store.location(path)}")
    if latest == recorded:
        raise InputError(f"the register already records version {latest} of {account_id}'s "
                         f"{kind}")
    clean_secret(kind, found)  # what we adopt must be usable
    store.annotate(path, _store_metadata(op, account, kind, authority, "adopt"))
    if current:
        op.register.update("credentials", {"id": current["id"]}, {
            "version": latest, "rotated_by": op.operator["id"], "rotated_at": op.at})
    else:
        op.register.insert("credentials", {
            "account": account_id, "kind": kind, "backend": store.name,
            "reference": store.location(path), "version": latest,
            "set_by": op.operator["id"], "set_at": op.at})
    return _recorded(op, account, kind, latest, "adopt", authority, previous=recorded or None)


def reveal(op: Operation, account_id: str, kind: str | None) -> str:
    """The current secret, for someone with a grant (or the owner); records the exposure."""
    account = accounts.get(op.register, account_id)
    kind = resolve_kind(op.register, account_id, kind)
    credential = credential_rows.get(op.register, account_id, kind)
    if credential is None:
        raise NotFound(f"{account_id} has no {kind} in the register")
    grant = authorise(op, "cred.reveal", account["id"], account=account,
                      stored_by=credential["rotated_by"] or credential["set_by"]).grant
    secret = op.store.read(secret_path(account_id, kind), credential["version"])
    if _in_engine(secret):
        raise InputError(f"{account_id}'s TOTP seed is kept in OpenBao's TOTP engine, which "
                         f"never gives it back: 'accessgov otp {account_id}' gives its code")
    exposures.expose(op.register, op.operator["id"], account_id, kind, credential["version"],
                     "reveal", grant, op.at)
    op.record("cred.reveal", account_id, kind=kind, version=credential["version"],
              grant=grant)
    return secret


def current_otp(op: Operation, account_id: str) -> tuple[str, int]:
    """The account's current TOTP code, for a grant holder; records an exposure of the seed."""
    account = accounts.get(op.register, account_id)
    credential = credential_rows.get(op.register, account_id, "totp-seed")
    if credential is None:
        raise NotFound(f"{account_id} has no TOTP seed in the register; store one with "
                       f"'accessgov cred set {account_id} --kind totp-seed'")
    grant = _require_holder(op, "cred.otp", account)
    seed = op.store.read(secret_path(account_id, "totp-seed"),
                                     credential["version"])
    engine = op.store.code_engine()
    if _in_engine(seed) and engine is not None:
        # A code from the engine exposes a code, not the seed: nobody need re-seed for it.
        code, period = engine.code(seed)
        op.record("cred.otp", account_id, kind="totp-seed", version=credential["version"],
                  grant=grant, seed_exposed=False)
        return code, period - int(op.now.timestamp()) % period
    exposures.expose(op.register, op.operator["id"], account_id, "totp-seed",
                     credential["version"], "otp", grant, op.at)
    op.record("cred.otp", account_id, kind="totp-seed", version=credential["version"],
              grant=grant)
    return otp_code(seed, op.now.timestamp())


def move_to_code_engine(op: Operation, account_id: str) -> Row:
    """Move an account's TOTP seed from KV into OpenBao's TOTP engine: the same seed, as a new
    version whose KV entry only names the engine key; the KV versions that held it are
    destroyed once the change commits. Whoever could know the seed still could."""
    account = _live_account(op.register, account_id)
    credential = credential_rows.get(op.register, account_id, "totp-seed")
    if credential is None:
        raise NotFound(f"{account_id} has no TOTP seed in the register")
    authority = _require_manager(op, "cred.rotate", account)
    if op.store.code_engine() is None:
        raise InputError("only a register whose secrets are in Vault/OpenBao has a TOTP engine")
    path = secret_path(account_id, "totp-seed")
    seed = op.store.read(path, credential["version"])
    if _in_engine(seed):
        raise InputError(f"{account_id}'s TOTP seed is already in OpenBao's TOTP engine")
    old = credential["version"]
    version = _write(op, account, "totp-seed", seed, recorded=old, authority=authority,
                     how="move", strict=True)
    op.register.update("credentials", {"id": credential["id"]}, {"version": version})
    exposures.carry_over(op.register, account_id, "totp-seed", old, version)
    store = op.store

    def destroy_old_seeds() -> None:
        for number in range(1, old + 1):
            if store.exists(path, number):
                store.discard(path, number)

    op.after_commit(destroy_old_seeds)
    return _recorded(op, account, "totp-seed", version, "move", authority, previous=old)


# -- helpers ----------------------------------------------------------------------------------

def _live_account(register: Register, account_id: str) -> Row:
    account = accounts.get(register, account_id)
    if account["status"] != "active":
        raise InputError(f"{account_id} is archived; its credentials cannot change")
    return account


def _write(op: Operation, account: Row, kind: str, secret: str, *, recorded: int,
           authority: str, how: str, strict: bool = False) -> int:
    """Write a new version with check-and-set against what the store really holds (a TOTP
    seed, on OpenBao, into its TOTP engine: see `_into_engine`)."""
    store = op.store
    path = secret_path(account["id"], kind)
    latest = store.current_version(path)
    if latest > recorded and _is_live(op, path, latest):
        raise InputError(
            f"the store holds a newer {kind} for {account['id']} (version {latest}) than the "
            f"register records (version {recorded}): it was changed outside accessgov or a "
            f"command was interrupted; record it with 'accessgov cred adopt {account['id']} "
            f"--kind {kind}' first"
        )
    if kind == "totp-seed":
        secret = _into_engine(op, account, secret, latest + 1, recorded, strict=strict)
    return op.write_secret(path, secret, expect_version=latest,
                           metadata=_store_metadata(op, account, kind, authority, how))


def _in_engine(value: str) -> bool:
    from accessgov.secrets.openbao.totp import is_pointer

    return is_pointer(value)


def _into_engine(op: Operation, account: Row, seed: str, version: int, recorded: int, *,
                 strict: bool) -> str:
    """What KV keeps for a TOTP seed: where the store has OpenBao's TOTP engine, a pointer to
    the engine key now holding the seed (removed again if the change fails; the previous
    version's key goes once it commits); elsewhere the seed itself. An engine that is not
    enabled leaves the seed in KV, with a warning (`strict`: refused)."""
    from accessgov.secrets.openbao.totp import EngineMissing

    engine = op.store.code_engine()
    if engine is None:
        return seed
    name = engine.key_name(account["id"], version)
    totp = platform_totp(seed)
    try:
        engine.create(name, totp, account["id"])
    except EngineMissing:
        advice = (f"an administrator enables it ('bao secrets enable -path={engine.mount} "
                  f"totp'), then 'accessgov cred move-to-totp-engine {account['id']}'")
        if strict:
            raise InputError(f"OpenBao has no TOTP engine at {engine.mount}/: {advice}") \
                from None
        op.warn(f"OpenBao's TOTP engine is not enabled at {engine.mount}/, so "
                f"{account['id']}'s seed is kept in KV, where whoever holds the token can read "
                f"it: {advice}")
        return seed
    pointer = engine.pointer(name, int(totp.interval))
    op.on_rollback(lambda: engine.delete(pointer))
    if recorded:
        previous = op.store.read(secret_path(account["id"], "totp-seed"), recorded)
        if _in_engine(previous):
            op.after_commit(lambda: engine.delete(previous))
    return pointer


def _is_live(op: Operation, path: str, version: int) -> bool:
    try:
        op.store.read(path, version)
    except SecretNotFound:
        return False
    return True


def _store_metadata(op: Operation, account: Row, kind: str, authority: str,
                    how: str) -> dict[str, str]:
    """What other Vault clients see beside the secret: who set it and who may use it."""
    holders = credential_rows.approved_holders(op.register, account["id"])
    grants = " ".join(f"{row['id']}:{row['approver']}" for row in holders)
    if len(grants) > 500:  # Vault limits a metadata value to 512 bytes
        grants = grants[:480].rsplit(" ", 1)[0] + f" (+{len(holders)} in the register)"
    return {
        "accessgov_org": op.register.setting("org_slug") or "",
        "accessgov_account": account["id"], "accessgov_kind": kind,
        "accessgov_written_by": op.operator["id"], "accessgov_authority": authority,
        "accessgov_written_at": op.at, "accessgov_how": how,
        "accessgov_grants": grants or "none",
    }


def _recorded(op: Operation, account: Row, kind: str, version: int, how: str, authority: str,
              previous: int | None = None, seen: bool = False) -> Row:
    op.register.insert("credential_versions", {
        "account": account["id"], "kind": kind, "version": version, "how": how,
        "by": op.operator["id"], "at": op.at})
    if seen:
        exposures.expose(op.register, op.operator["id"], account["id"], kind, version, "set",
                         None, op.at)
    exposed = []
    if kind == "password" and account["access"] == "shared-login":
        exposed = exposures.expose_grant_holders(op.register, account["id"], version,
                                                   op.today, op.at)
    op.record(f"cred.{how}", account["id"], kind=kind, version=version,
              previous_version=previous, authority=authority,
              stored_at=op.store.location(secret_path(account["id"], kind)),
              seen_by_operator=seen, exposed_by_shared_login=exposed or None)
    row = credential_rows.get(op.register, account["id"], kind)
    assert row is not None
    return row
