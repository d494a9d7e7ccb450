"""An administrator's work on operators: create one (user, entity, aliases, signing key),
mint an enrolment token, destroy a TOTP key, disable and re-enable (see `layout`).

Passwords arrive as arguments from a prompt or stdin read by the CLI, never from argv, and
are sent only in a request body.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from accessgov.errors import InputError, NotFound, Refused
from accessgov.secrets.openbao.client import OpenBaoClient
from accessgov.secrets.openbao.layout import (
    ENROL_POLICY,
    PERSON_METADATA,
    TOKEN_MOUNT,
    Layout,
    check_person,
    enrol_role,
    entity_name,
    key_name,
)
from accessgov.secrets.openbao.setup import auth_accessor, auth_type, totp_method_id

# A session (an operator's token) lasts 15 minutes unless asked otherwise at login, and never
# more than 12 hours: OpenBao enforces the cap (token_explicit_max_ttl), not accessgov.
DEFAULT_SESSION = dt.timedelta(minutes=15)
MAX_SESSION = dt.timedelta(hours=12)
ENROLMENT_TTL = dt.timedelta(minutes=15)
ENROLMENT_MAX_TTL = dt.timedelta(hours=1)
# lookup-self, the method list and generate, with one to spare.
ENROLMENT_USES = 4


@dataclasses.dataclass(frozen=True)
class Operator:
    """An operator as OpenBao knows them."""

    person: str
    entity_id: str
    key: str


def create_operator(admin: OpenBaoClient, layout: Layout, person: str,
                    password: str | None) -> Operator:
    """Make (or repair) `person`'s entity, its aliases, signing key and enrolment role, and -
    on a userpass login mount - the user with `password` (set again on a repair). The entity
    and aliases come first, so a login in between cannot leave OpenBao with an entity of its
    own making. On another kind of login mount, the organisation's own configuration must
    give its logins the operator policy, and the alias is the person id."""
    check_person(person)
    kind = auth_type(admin, layout.auth_mount)
    if kind == "userpass" and not password:
        raise InputError(f"a password is needed to create the OpenBao user {person}")
    entity = _ensure_entity(admin, person)
    for mount in (layout.auth_mount, TOKEN_MOUNT):
        _ensure_alias(admin, entity, person, auth_accessor(admin, mount))
    key = _ensure_signing_key(admin, layout, person)
    admin.write(f"auth/token/roles/{enrol_role(person)}", {
        "allowed_policies": [ENROL_POLICY],
        "allowed_entity_aliases": [person],
        "orphan": True,
        "renewable": False,
        "token_no_default_policy": True,
        "token_explicit_max_ttl": _seconds(ENROLMENT_MAX_TTL),
        "token_type": "service",
    }, what=f"writing {person}'s enrolment token role")
    if kind == "userpass":
        admin.write(f"auth/{layout.auth_mount}/users/{person}", {
            "password": password,
            "token_policies": [layout.operator_policy],
            "token_ttl": _seconds(DEFAULT_SESSION),
            "token_explicit_max_ttl": _seconds(MAX_SESSION),
            "token_type": "service",
        }, what=f"writing the OpenBao user {person}")
    return Operator(person, str(entity["id"]), key)


def enrolment_token(admin: OpenBaoClient, person: str, *,
                    ttl: dt.timedelta = ENROLMENT_TTL) -> str:
    """A short-lived token of `person`'s own entity that can only make their TOTP key; the
    administrator hands it to the operator, who runs `mfa.enrol` with it."""
    entity = find_entity(admin, person)
    if entity.get("disabled"):
        raise Refused(f"operator {person} is disabled in OpenBao: enable them first")
    body = admin.write(f"auth/token/create/{enrol_role(person)}", {
        "entity_alias": person,
        "policies": [ENROL_POLICY],
        "ttl": _seconds(ttl),
        "num_uses": ENROLMENT_USES,
        "display_name": f"accessgov-enrol-{person}",
    }, what=f"creating an enrolment token for {person}")
    auth = body.get("auth") or {}
    if auth.get("entity_id") != entity["id"]:
        # The role found or made another entity for the alias: never hand that out.
        admin.write("auth/token/revoke", {"token": auth.get("client_token")},
                    what="revoking a stray enrolment token")
        raise Refused(f"OpenBao tied the enrolment token to another entity than {person}'s:"
                      " run create_operator again to repair the token alias")
    return str(auth["client_token"])


def destroy_mfa(admin: OpenBaoClient, person: str) -> None:
    """Unlink `person`'s TOTP key: they cannot log in until they enrol again."""
    entity = find_entity(admin, person)
    method_id = totp_method_id(admin)
    if method_id is None:
        raise InputError("OpenBao has no accessgov TOTP method: run the set-up first")
    admin.write("identity/mfa/method/totp/admin-destroy",
                {"method_id": method_id, "entity_id": entity["id"]},
                what=f"destroying {person}'s TOTP key")


def disable_operator(admin: OpenBaoClient, layout: Layout, person: str) -> None:
    """Stop `person` at once: disabling the entity makes OpenBao refuse every request made
    with any of its tokens and every login; revoking by the paths their tokens came from
    (login and enrolment) ends those tokens for good, so re-enabling brings none back."""
    entity = find_entity(admin, person)
    admin.write(f"identity/entity/id/{entity['id']}", {"disabled": True},
                what=f"disabling {person}'s entity")
    for path in (layout.login_path(person), f"auth/token/create/{enrol_role(person)}"):
        admin.write(f"sys/leases/revoke-prefix/{path}/", {}, what=f"revoking {person}'s tokens")


def enable_operator(admin: OpenBaoClient, person: str) -> None:
    """Let `person` log in again (with password and code; old tokens stay revoked)."""
    entity = find_entity(admin, person)
    admin.write(f"identity/entity/id/{entity['id']}", {"disabled": False},
                what=f"enabling {person}'s entity")


def find_entity(admin: OpenBaoClient, person: str) -> dict[str, Any]:
    """`person`'s entity as OpenBao reads it; NotFound if there is none."""
    body = admin.read(f"identity/entity/name/{entity_name(person)}",
                      what=f"reading {person}'s entity", missing_ok=True)
    entity = (body or {}).get("data")
    if not entity:
        raise NotFound(f"OpenBao has no operator {person}: create them first")
    return dict(entity)


def _ensure_entity(admin: OpenBaoClient, person: str) -> dict[str, Any]:
    admin.write(f"identity/entity/name/{entity_name(person)}",
                {"metadata": {PERSON_METADATA: person}},
                what=f"writing {person}'s entity")
    return find_entity(admin, person)


def _ensure_alias(admin: OpenBaoClient, entity: dict[str, Any], person: str,
                  accessor: str) -> None:
    """An alias `person` on the mount with `accessor`, belonging to `entity` and no other."""
    if any(alias.get("mount_accessor") == accessor and alias.get("name") == person
           for alias in entity.get("aliases") or []):
        return
    owner = admin.write("identity/lookup/entity",
                        {"alias_name": person, "alias_mount_accessor": accessor},
                        what=f"looking up {person}'s alias")
    owner_id = (owner.get("data") or {}).get("id")
    if owner_id and owner_id != entity["id"]:
        raise Refused(
            f"the login {person} on {accessor} already belongs to OpenBao entity {owner_id}:"
            " an administrator must merge or remove that entity first")
    admin.write("identity/entity-alias",
                {"name": person, "canonical_id": entity["id"], "mount_accessor": accessor},
                what=f"writing {person}'s alias")


def _ensure_signing_key(admin: OpenBaoClient, layout: Layout, person: str) -> str:
    """`person`'s Ed25519 transit key, made non-exportable; refuse a key that is not so."""
    body = admin.write(layout.key_path(person), {
        "type": "ed25519", "exportable": False, "allow_plaintext_backup": False,
    }, what=f"creating {person}'s signing key")
    key = body.get("data") or {}
    if not key:
        key = (admin.read(layout.key_path(person), what=f"reading {person}'s signing key")
               or {}).get("data") or {}
    if key.get("type") != "ed25519" or key.get("exportable") \
            or key.get("allow_plaintext_backup"):
        raise Refused(
            f"OpenBao's transit key {key_name(person)} exists but is not a non-exportable"
            " Ed25519 key: it cannot sign for accessgov; an administrator must remove it")
    return key_name(person)


def _seconds(length: dt.timedelta) -> int:
    return int(length.total_seconds())
