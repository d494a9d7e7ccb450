"""An account's TOTP seed kept in OpenBao's TOTP engine, which gives codes and never the seed.

Contributors to a shared login need the account's code, not its seed: whoever can read a seed
can make codes for ever, and so must be asked to re-seed when they leave. In OpenBao's TOTP
engine a key imported with its seed (generator mode) answers `GET <mount>/code/<name>` with
the current code, and nothing, no policy, no administrator, reads the seed back.

The register keeps its version numbers as for every credential: each version of the seed is
its own engine key, `accessgov-<org>-<account>-v<N>`, and the KV entry of that version holds
only a pointer to it (`openbao-totp:<mount>/<name>#<period>`, no secret), so rotation,
reconciliation and a failed command's undo work as for any credential. The engine is mounted
once by an administrator (`bao secrets enable totp`, or `accessgov store setup` for a
register whose operators are each their own identity); the token accessgov uses needs
`create`, `update` and `delete` on `<mount>/keys/accessgov-<org>-*` and `read` on
`<mount>/code/accessgov-<org>-*`, and nothing may `read` the keys (which would give their
settings, never their seed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessgov.errors import AccessGovError
from accessgov.secrets.openbao.client import no_route

if TYPE_CHECKING:
    from accessgov.secrets.openbao.client import OpenBaoClient

POINTER = "openbao-totp:"
DEFAULT_MOUNT = "totp"


class EngineMissing(AccessGovError):
    """No TOTP engine is mounted where the register expects one."""


def is_pointer(value: str) -> bool:
    """Whether a stored value names an engine key rather than holding a seed."""
    return value.startswith(POINTER)


class CodeEngine:
    """The TOTP engine at `mount`, for one organisation's keys."""

    def __init__(self, client: OpenBaoClient, mount: str, org: str) -> None:
        self.client = client
        self.mount = mount.strip("/")
        self.org = org

    def key_name(self, account: str, version: int) -> str:
        """The engine key of one version of an account's seed."""
        return f"accessgov-{self.org}-{account}-v{int(version)}"

    def pointer(self, name: str, period: int) -> str:
        """What the KV entry holds for a seed kept in the engine (no secret): the key, and
        its period, so that a code's remaining life needs no read of the key."""
        return f"{POINTER}{self.mount}/{name}#{int(period)}"

    def create(self, name: str, seed: Any, account: str) -> None:
        """Import a seed (a pyotp TOTP) as a generator key; EngineMissing if no engine."""
        algorithm = {"sha1": "SHA1", "sha256": "SHA256", "sha512": "SHA512"}[
            seed.digest().name]
        status, body = self.client.request("POST", f"{self.mount}/keys/{name}", {
            "generate": False, "key": seed.secret, "account_name": account,
            "issuer": f"accessgov {self.org}", "period": int(seed.interval),
            "digits": int(seed.digits), "algorithm": algorithm})
        if status == 404 and no_route(body):
            raise EngineMissing(f"OpenBao has no TOTP engine at {self.mount}/")
        if status not in (200, 204):
            raise self.client.failure(status, body, f"storing {account}'s TOTP seed in "
                                                    f"OpenBao's TOTP engine ({self.mount}/)")

    def code(self, pointer: str) -> tuple[str, int]:
        """The current code of the key a pointer names, and the key's period in seconds."""
        target, _, period = pointer.removeprefix(POINTER).partition("#")
        mount, _, name = target.partition("/")
        body = self.client.read(f"{mount}/code/{name}", what=f"the code of {name}")
        return (str(((body or {}).get("data") or {}).get("code") or ""),
                int(period) if period.isdigit() else 30)

    def delete(self, pointer_or_name: str) -> None:
        """Remove a key (the seed goes with it: nobody can make its codes any more)."""
        target = pointer_or_name.removeprefix(POINTER).partition("#")[0]
        mount, _, name = target.partition("/") if "/" in target else (self.mount, "", target)
        self.client.delete(f"{mount}/keys/{name}", what=f"removing the TOTP key {name}")
