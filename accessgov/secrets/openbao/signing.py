"""Signatures by operators: OpenBao's transit engine signs with the operator's own Ed25519
key (which nobody can export), and anyone checks a signature locally from the public keys.

A signature is kept as transit gives it, `vault:v<key version>:<base64 of 64 bytes>`, so it
names the key version that made it and survives a key rotation.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from accessgov.errors import InputError
from accessgov.secrets.openbao.client import OpenBaoClient
from accessgov.secrets.openbao.layout import KEY_PREFIX, Layout, check_person

PublicKeys = Mapping[int, bytes]  # key version -> 32-byte raw Ed25519 public key

_SIGNATURE = re.compile(r"vault:v([1-9][0-9]{0,8}):([A-Za-z0-9+/]+={0,2})")
_ED25519_SIGNATURE_BYTES = 64
_ED25519_KEY_BYTES = 32


def sign(own: OpenBaoClient, layout: Layout, person: str, message: bytes) -> str:
    """`message` signed with `person`'s key, by the client's token (which must be theirs:
    OpenBao refuses any other with OpenBaoRefused)."""
    body = own.write(layout.sign_path(person),
                     {"input": base64.b64encode(message).decode("ascii")},
                     what=f"signing as {person}")
    return str((body.get("data") or {})["signature"])


def public_keys(client: OpenBaoClient, layout: Layout, person: str) -> dict[int, bytes]:
    """Every version of `person`'s public key ({} if they have no key)."""
    body = client.read(layout.key_path(person), what=f"reading {person}'s public key",
                       missing_ok=True)
    return _keys_of((body or {}).get("data") or {})


def all_public_keys(client: OpenBaoClient, layout: Layout) -> dict[str, dict[int, bytes]]:
    """Every operator's public keys by person id: one LIST, then one read per key (worth
    caching: keys change only when an operator is created or a key rotated)."""
    names = client.list(f"{layout.transit_mount}/keys", what="listing the signing keys")
    people = [name.removeprefix(KEY_PREFIX) for name in names if name.startswith(KEY_PREFIX)]
    return {person: public_keys(client, layout, person) for person in people
            if _is_person(person)}


def keys_that_can_leave(client: OpenBaoClient, layout: Layout) -> list[str]:
    """The people whose signing key an administrator has made exportable or backed-up in
    plain text since it was created (a one-way change in transit): their signatures from
    then on prove less, and an audit should say so."""
    loose = []
    for name in client.list(f"{layout.transit_mount}/keys", what="listing the signing keys"):
        person = name.removeprefix(KEY_PREFIX)
        if not name.startswith(KEY_PREFIX) or not _is_person(person):
            continue
        body = client.read(layout.key_path(person), what=f"reading {person}'s key settings",
                           missing_ok=True)
        key = (body or {}).get("data") or {}
        if key.get("exportable") or key.get("allow_plaintext_backup"):
            loose.append(person)
    return sorted(loose)


def verify(keys: PublicKeys, message: bytes, signature: str) -> bool:
    """Whether `signature` (as `sign` returns it) was made over `message` by one of `keys`.
    Pure: no call to OpenBao. A malformed signature or an unknown key version is False."""
    parsed = _parse(signature)
    if parsed is None or parsed[0] not in keys:
        return False
    version, raw = parsed
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(keys[version]).verify(raw, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_version(signature: str) -> int | None:
    """The key version a signature names (None if it is not a transit signature)."""
    parsed = _parse(signature)
    return parsed[0] if parsed else None


def _parse(signature: str) -> tuple[int, bytes] | None:
    match = _SIGNATURE.fullmatch(signature)
    if match is None:
        return None
    try:
        raw = base64.b64decode(match.group(2), validate=True)
    except binascii.Error:
        return None
    return (int(match.group(1)), raw) if len(raw) == _ED25519_SIGNATURE_BYTES else None


def _keys_of(key: dict[str, object]) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    if key.get("type") != "ed25519":
        return found
    versions = key.get("keys")
    for version, info in (versions.items() if isinstance(versions, dict) else ()):
        public = info.get("public_key") if isinstance(info, dict) else None
        if isinstance(public, str):
            raw = base64.b64decode(public)
            if len(raw) == _ED25519_KEY_BYTES:
                found[int(version)] = raw
    return found


def _is_person(person: str) -> bool:
    try:
        check_person(person)
    except InputError:
        return False
    return True
