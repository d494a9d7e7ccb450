"""`accessgov init`: a new register bound to one organisation and one secret store."""

from __future__ import annotations

import contextlib
import re

from accessgov.audit import chain as audit
from accessgov.audit import timeline
from accessgov.audit.guard import SEALED_MARKER
from accessgov.audit.head import HEAD_PATH
from accessgov.common.timeutil import iso, utc_now
from accessgov.db import seals
from accessgov.db.register import Location, Register
from accessgov.errors import InputError
from accessgov.identity.authority import SETUP_MARKER
from accessgov.secrets.base import SecretBackend, VersionConflict
from accessgov.secrets.config import BackendConfig
from accessgov.workspace import BackendFactory


def org_slug(name: str) -> str:
    """`InterAct` -> `interact`; `St. Mary's Trust` -> `st-marys-trust`."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")
    if not slug:
        raise InputError(f"cannot make an identifier from the organisation name {name!r}")
    return slug


def initialise(db_path: Location, org: str, config: BackendConfig,
               backend_factory: BackendFactory, *, store: SecretBackend | None = None
               ) -> Register:
    """Create the register, its audit key in the secret store, and the first audit event.

    The store is checked and the key written before the register file exists, and the key is
    discarded again if the register cannot be made: a failure leaves nothing behind. Where
    each operator is their own identity in the store (`store.signs`, with the operator's own
    login in `store`), there is no audit key: the first event is signed by that operator.
    """
    if db_path.exists():
        raise InputError(f"a register already exists at {db_path}")
    org = org.strip()
    if not org:
        raise InputError("--org cannot be empty")
    store = store or backend_factory(config)
    store.check()
    if store.signs:
        return _initialise_signed(db_path, org, config, store)
    now = iso(timeline.store_time(store, utc_now()))  # the server's, if it has one
    try:
        key_version = store.write(audit.KEY_PATH, audit.new_key(), expect_version=0)
    except VersionConflict:
        raise InputError(
            f"the secret store already holds an audit key at {store.location(audit.KEY_PATH)}, "
            f"so another register for '{config.org_slug}' uses that place; keep registers apart "
            "with a different --slug (or another place in the store: see 'accessgov init --help')"
        ) from None
    # The key did not exist, so any marker left beside it belongs to a register long gone.
    for stale in (SETUP_MARKER, SEALED_MARKER, HEAD_PATH):
        store.delete(stale)
    created = False
    try:
        register = Register.create(db_path)
        created = True
        key = audit.decode_key(store.read(audit.KEY_PATH, key_version))
        with register.transaction():
            seals.track(register)
            for name, value in (config.as_settings() | {
                "org": org, "org_slug": config.org_slug, "created_at": now,
                "audit_key_version": str(key_version),
            }).items():
                register.set_setting(name, value)
            log = audit.AuditLog(register, audit.keyed_trust(key))
            log.append(now, "setup", "register.init", config.org_slug,
                       {"org": org, "backend": config.kind,
                        "audit_key_at": store.location(audit.KEY_PATH)})
            log.commit()
    except BaseException:
        with contextlib.suppress(Exception):
            store.delete(audit.KEY_PATH)  # we created it with check-and-set 0: it is ours
        if created:
            register.discard()
        raise
    return register


def _initialise_signed(db_path: Location, org: str, config: BackendConfig,
                       store: SecretBackend) -> Register:
    """A register whose changes are signed by their actors: its first event is signed by the
    operator whose login the store holds, at the store's own time."""
    person = store.operator()
    if any(store.exists(marker) for marker in (SETUP_MARKER, SEALED_MARKER, HEAD_PATH)):
        raise InputError(
            f"the secret store already holds the records of a register for "
            f"'{config.org_slug}' ({store.location(SETUP_MARKER)}), so another register uses "
            "that place; keep registers apart with a different --slug")
    now = iso(timeline.store_time(store, utc_now()))
    register = Register.create(db_path)
    try:
        with register.transaction():
            seals.track(register)
            for name, value in (config.as_settings() | {
                    "org": org, "org_slug": config.org_slug, "created_at": now}).items():
                register.set_setting(name, value)
            trust = audit.signed_trust(lambda mac: (person, store.sign(person, mac)),
                                       store.signature_problem)
            log = audit.AuditLog(register, trust)
            log.append(now, person, "register.init", config.org_slug,
                       {"org": org, "backend": config.kind, "signed_by": person})
            log.commit()
    except BaseException:
        register.discard()
        raise
    return register
