"""Moving the register's secrets to another store (`accessgov store move --to vault|keyring`).

A charity starts on one laptop's keyring and later gets a Vault or OpenBao server (or leaves
one). The move is an approver's audited act, with MFA, and one change: every secret
accessgov keeps (credentials, operator MFA seeds, the audit key and its markers) is copied
version by version, so that the version numbers the register records still name the same
secret; each version is read back from the new store and compared before the register is
switched over. Whatever goes wrong, the change is undone and what it copied is removed again.

The chain head moves too (accessgov.audit.head.Moving): the register is judged against the
old store's record before anything is copied, so a register put back from a copy cannot be
laundered into a store that has never seen it; afterwards both records name the move, so a
copy from before it, still pointing at the old store, is refused there as well.

The new store's area must be empty: a move never overwrites secrets it did not write.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from accessgov.audit.chain import KEY_PATH
from accessgov.audit.guard import SEALED_MARKER
from accessgov.db.queries import findings as rows
from accessgov.errors import AccessGovError, InputError
from accessgov.governance.policy import SMTP_PASSWORD_PATH
from accessgov.identity.authority import SETUP_MARKER, authorise
from accessgov.secrets.base import SecretBackend, SecretNotFound
from accessgov.secrets.openbao.layout import HEAD_PATH

if TYPE_CHECKING:
    from accessgov.operation import Operation
    from accessgov.secrets.config import BackendConfig

MOVABLE = ("keyring", "vault")  # where operators share the store's credential
# Stands in, for a moment, for a version the old store no longer holds (discarded, or past
# Vault's max_versions), so that the versions after it keep their numbers; destroyed at once.
GAP = "accessgov: this version was not kept"
OWN_PATHS = (KEY_PATH, SEALED_MARKER, SETUP_MARKER, SMTP_PASSWORD_PATH)


def check_move(source: BackendConfig, target: BackendConfig) -> None:
    """InputError unless the register may move from `source` to `target`."""
    if source.kind not in MOVABLE:
        raise InputError(
            f"this register keeps its secrets in {source.kind}, where each operator is their "
            "own identity and signs every change: moving out would drop the signatures the "
            "log rests on, so it cannot be moved")
    if target.kind not in MOVABLE:
        raise InputError(f"a register can move only to {' or '.join(MOVABLE)}")
    if source.as_settings() == target.as_settings():
        raise InputError("the register already keeps its secrets there")


def paths_to_move(op: Operation) -> list[str]:
    """Every path accessgov keeps in the store for this register: its own bookkeeping, every
    credential and operator seed it ever wrote, and whatever else a listing shows (the head
    record moves with the change itself)."""
    paths = {f"{row['account']}/{row['kind']}"
             for row in rows.written_credential_paths(op.register)}
    paths |= {f"mfa/{row['subject']}" for row in rows.enrolled_seed_subjects(op.register)}
    paths |= set(OWN_PATHS)
    listed = op.store.list_paths()
    paths |= set(listed or ())
    paths.discard(HEAD_PATH)
    return sorted(path for path in paths if op.store.current_version(path))


def move(op: Operation, target: SecretBackend, target_config: BackendConfig, *,
         remove_old: bool) -> dict[str, Any]:
    """Copy every secret to `target`, check each copy, and switch the register to it."""
    org = op.register.setting("org_slug") or "register"
    authorise(op, "store.move", org)
    source = op.store
    target.check()
    paths = paths_to_move(op)
    _refuse_occupied(target, paths)
    versions = 0
    for path in paths:
        versions += _copy(op, source, target, path)
    before = {key: value for key, value in op.register.settings().items()
              if key.startswith("backend")}
    for key in before:
        op.register.delete("settings", {"key": key})
    after = target_config.as_settings()
    for key, value in after.items():
        op.register.set_setting(key, value)
    for row in list(rows.credential_versions(op.register)):
        path = f"{row['account']}/{row['kind']}"
        op.register.update("credentials", {"account": row["account"], "kind": row["kind"]},
                           {"backend": target.name, "reference": target.location(path)})
    if remove_old:
        op.after_commit(lambda: _remove(source, paths))
    details = {"before": _described(before), "after": _described(after),
               "secrets": len(paths), "versions": versions, "old_copies_removed": remove_old}
    op.record("store.move", org, **details)
    return details


def _refuse_occupied(target: SecretBackend, paths: Iterable[str]) -> None:
    for path in [*paths, HEAD_PATH]:
        if target.current_version(path):
            raise InputError(
                f"the new store already holds a secret at {target.location(path)}: it belongs "
                "to another register (or to an earlier move); a move never overwrites "
                "secrets, so use an empty area (another --vault-prefix) or remove them first")


def _copy(op: Operation, source: SecretBackend, target: SecretBackend, path: str) -> int:
    """Write every version of `path` into `target` under the same number, reading each back;
    the copies are removed again if the change does not commit. How many versions were live."""
    newest = source.current_version(path)
    op.on_rollback(lambda: target.delete(path))
    live = 0
    for version in range(1, newest + 1):
        try:
            value: str | None = source.read(path, version)
        except SecretNotFound:
            value = None
        written = target.write(path, value or GAP, expect_version=version - 1)
        if written != version:
            raise AccessGovError(
                f"the new store numbered version {version} of {target.location(path)} as "
                f"{written}: the copy would not match the register, so nothing was moved")
        if value is None:
            target.discard(path, version)
            continue
        if not hmac.compare_digest(target.read(path, version).encode(), value.encode()):
            raise AccessGovError(
                f"version {version} read back from {target.location(path)} differs from what "
                "was written: the new store does not keep secrets faithfully, nothing was moved")
        live += 1
    if target.current_version(path) != newest:
        raise AccessGovError(f"{target.location(path)} did not end at version {newest} in the "
                             "new store: nothing was moved")
    return live


def _remove(source: SecretBackend, paths: Iterable[str]) -> None:
    """After the commit: the old store's copies (its head record stays, naming the move)."""
    for path in paths:
        source.delete(path)


def _described(settings: dict[str, str]) -> dict[str, str]:
    """Where a store is, as the event keeps it (no token, no secret is ever a setting)."""
    return {key.removeprefix("backend_"): value for key, value in sorted(settings.items())}
