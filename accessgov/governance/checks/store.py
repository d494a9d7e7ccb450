"""Reconciliation with the secret store: the register and the store must agree on which
secrets exist, so that every password in the store is overseen and every recorded one can
be used.

"The CEO and Board of Trustees will maintain oversight of: passwords and login arrangements"
("Access"). A secret in accessgov's area that the register does not know is a password
nobody oversees; a recorded secret the store lost is one nobody can use or rotate.

On Vault the store is listed (one LIST of the KV metadata per folder under
`<prefix>/<org>/`, no secret value is fetched). A keyring cannot list its entries, so the
paths accessgov ever wrote (credential versions, MFA enrolments) are probed one by one.
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.db.queries import findings as rows
from accessgov.errors import AccessGovError
from accessgov.governance.checks.base import ACCESS, Context, Finding, PolicyRule
from accessgov.secrets.base import SecretBackend

UNRECORDED = PolicyRule("STO-001", "medium", "a secret in accessgov's area of the store that the "
                        "register has no record of", ACCESS)
GONE = PolicyRule("STO-002", "high", "a secret the register records that the store no longer holds",
                  ACCESS)
# High: a store nobody could check hides every other store finding, so no threshold hides it.
NOT_CHECKED = PolicyRule("STO-003", "high", "the secret store could not be checked", ACCESS)
RULES = (UNRECORDED, GONE, NOT_CHECKED)

# The audit key and accessgov's markers (the store's own bookkeeping), and the mail server's
# password for reminders (recorded as a setting, not a credential of an account).
OWN_AREA = ("audit/", "smtp/")


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family (none when the store is not to be checked)."""
    if context.store_problem is not None:
        yield _not_checked(context.store_problem)
        return
    if context.store is None:
        return
    try:
        # Gathered whole before anything is yielded, so an unreachable store gives one
        # finding rather than half a reconciliation.
        found = list(_reconcile(context, context.store))
    except AccessGovError as error:
        yield _not_checked(str(error))
        return
    yield from found


def _not_checked(problem: str) -> Finding:
    return NOT_CHECKED.finding(
        "secret store", f"The secret store could not be checked ({problem.rstrip('.')}), so "
        "passwords it holds without a record, or records whose secret it lost, are unknown: "
        "run 'accessgov check' again once it is available.")


def _reconcile(context: Context, store: SecretBackend) -> Iterator[Finding]:
    store.check()
    credentials = {f"{row['account']}/{row['kind']}": row["version"]
                   for row in rows.credential_versions(context.register)}
    seeds = {f"mfa/{row['person']}": row["seed_version"]
             for row in rows.seed_versions(context.register)}
    recorded = credentials | seeds
    listed = store.list_paths()
    candidates = set(recorded) | (set(listed) if listed is not None else _written(context))
    for path in sorted(candidates):
        if path.startswith(OWN_AREA):
            continue
        if path in recorded:
            yield from _recorded(store, path, recorded[path], path in seeds)
        else:
            latest = store.current_version(path)
            if latest and store.exists(path, latest):
                yield _unrecorded(store, path)


def _written(context: Context) -> set[str]:
    """Every path accessgov wrote in this store, as far as the register and its log know."""
    paths = {f"{row['account']}/{row['kind']}"
             for row in rows.written_credential_paths(context.register)}
    paths |= {f"mfa/{row['subject']}" for row in rows.enrolled_seed_subjects(context.register)}
    return paths


def _recorded(store: SecretBackend, path: str, version: int, is_seed: bool
              ) -> Iterator[Finding]:
    where = _location(store, path)
    if not store.exists(path, version):
        if is_seed:
            person = path.removeprefix("mfa/")
            yield GONE.finding(
                path, f"{person}'s MFA seed (version {version}, {where}) is missing from the "
                f"store, so {person} cannot prove who they are: reset it with 'accessgov mfa "
                f"reset {person}' and have them enrol again.", person)
        else:
            account, _, kind = path.partition("/")
            yield GONE.finding(
                path, f"The register records version {version} of {account}'s {kind} "
                f"({where}), but the store no longer holds it: restore it from a backup of "
                f"the store, or store the current one with 'accessgov cred rotate {account} "
                f"--kind {kind}'.", account)
        return
    latest = store.current_version(path)
    if latest > version and store.exists(path, latest):
        yield UNRECORDED.finding(
            path, f"The store holds version {latest} at {where}, but the register records "
            f"version {version}: a command was interrupted, or another tool wrote it. Check "
            "it, then record it with 'accessgov cred adopt' (or remove that version from the "
            "store).", path.partition("/")[0])


def _unrecorded(store: SecretBackend, path: str) -> Finding:
    where = _location(store, path)
    if path.startswith("mfa/"):
        person = path.removeprefix("mfa/")
        return UNRECORDED.finding(
            path, f"An MFA seed for {person} is still in the store ({where}) though the "
            f"register has no MFA enrolment for {person} (a reset could not remove it): "
            "delete it from the store.", person)
    account, _, kind = path.partition("/")
    return UNRECORDED.finding(
        path, f"The store holds a secret at {where} that the register has no record of, so "
        f"nobody oversees it: if it is {account}'s {kind}, record it with 'accessgov cred "
        "adopt'; otherwise remove it from accessgov's area.", account)


def _location(store: SecretBackend, path: str) -> str:
    try:
        return store.location(path)
    except AccessGovError:  # a key written by another tool that accessgov would not name
        return repr(path)
