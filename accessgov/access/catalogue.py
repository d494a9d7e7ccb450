"""The platform catalogue: each platform's role words, MFA methods and offboarding steps.

The data is `accessgov/data/platforms.json` (described by `schemas/platform-catalogue.schema.json`),
shipped in the package and read at most once per process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from accessgov.errors import InputError

ROLES = ("admin", "editor", "moderator", "analyst", "member")
MFA_METHODS = ("security-key", "totp", "app-prompt", "sms", "none", "unknown")
KINDS = ("social", "messaging-group")


@dataclass(frozen=True)
class Platform:
    """One platform in the catalogue. Shared by the whole process, so its mappings are read-only."""

    id: str
    name: str
    kind: str
    roles: Mapping[str, str]
    delegated_access: bool
    default_access: str
    mfa_methods: tuple[str, ...]
    offboarding: Mapping[str, tuple[str, ...]]
    shared_login_steps: tuple[str, ...]
    notes: str = ""

    def role_word(self, role: str) -> str:
        """The platform's own words for a generic role, or InputError if it has no such role."""
        try:
            return self.roles[role]
        except KeyError:
            article = "an" if role[:1] in ("a", "e", "i", "o", "u") else "a"
            raise InputError(
                f"{self.name} does not have {article} {role!r} role; "
                f"choose one of: {', '.join(self.roles)}"
            ) from None

    def offboarding_steps(self, role: str, person: str, handle: str) -> list[str]:
        """The steps to remove `person`'s `role` on the account `handle`, placeholders filled."""
        self.role_word(role)
        return self._fill(self.offboarding[role], person, handle)

    def shared_login_checklist(self, person: str, handle: str) -> list[str]:
        """The steps to take when `person` knew the shared login of `handle`, filled in."""
        return self._fill(self.shared_login_steps, person, handle)

    def _fill(self, steps: tuple[str, ...], person: str, handle: str) -> list[str]:
        # Values are substituted, never parsed, so braces in a name cannot break a step.
        return [s.format(person=person, handle=handle, platform=self.name) for s in steps]


def platform(platform_id: str) -> Platform:
    """The catalogue entry for `platform_id`, or InputError naming the valid ids."""
    try:
        return _catalogue()[platform_id]
    except KeyError:
        raise InputError(
            f"unknown platform {platform_id!r}; choose one of: {', '.join(_catalogue())}"
        ) from None


def all_platforms() -> list[Platform]:
    """Every platform, in the catalogue's order."""
    return list(_catalogue().values())


@cache
def _catalogue() -> dict[str, Platform]:
    # Imported here so that importing this module stays cheap for commands that never need it.
    from importlib import resources

    data = resources.files("accessgov").joinpath("data").joinpath("platforms.json")
    raw = json.loads(data.read_text(encoding="utf-8"))
    platforms = (_platform(entry) for entry in raw["platforms"])
    return {p.id: p for p in platforms}


def _platform(entry: dict[str, Any]) -> Platform:
    offboarding = dict(entry["offboarding"])
    shared_login = offboarding.pop("shared_login")
    return Platform(
        id=entry["id"],
        name=entry["name"],
        kind=entry["kind"],
        roles=MappingProxyType(dict(entry["roles"])),
        delegated_access=entry["delegated_access"],
        default_access=entry.get("default_access") or (
            "delegated" if entry["delegated_access"] else "shared-login"),
        mfa_methods=tuple(entry["mfa_methods"]),
        offboarding=MappingProxyType({role: tuple(s) for role, s in offboarding.items()}),
        shared_login_steps=tuple(shared_login),
        notes=entry.get("notes", ""),
    )
