"""Canaries: distinctive secrets go in, and their bytes must turn up nowhere they should not.

On a real OpenBao and on a real Secret Service keyring, the test stores a password, recovery
codes, a TOTP seed and an API token, rotates, reveals, takes a code, lists, exports, reads the
audit log, verifies it and runs a few commands that fail. Then it looks for every secret (and
for the operators' TOTP seeds and the audit key, read back from the store) in everything the
program left behind: the SQLite file, its -wal and -shm, every file written with -o, every
other file under the test's folders (session tickets, temp files, tracebacks), every stderr,
every stdout except the one command meant to print that secret, every argument list (by
construction, and by reading /proc/<pid>/cmdline of the running program while it waits for the
secret on stdin) and every environment passed to the program.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pyotp
import pytest

from tests.support import servers
from tests.support.shell import seed_from_uri
from tests.support.terminal import Terminal, clear_of_a_step_boundary, terminal

pytestmark = pytest.mark.integration


@dataclasses.dataclass
class Record:
    """One run of the program: what went in and what came out."""

    argv: list[str]
    env: dict[str, str]
    stdout: bytes
    stderr: bytes
    returncode: int
    may_print: frozenset[str]  # canaries this command exists to print on stdout
    proc_samples: list[bytes] = dataclasses.field(default_factory=list)


class Recorder:
    """Runs accessgov in subprocesses, keeping every argv, env, stdout and stderr."""

    def __init__(self, term: Terminal) -> None:
        self.term = term
        self.records: list[Record] = []
        self.wal_seen = False
        self.register_bytes = b""  # the register, -wal and -shm as seen after every command

    def run(self, command: str, *, stdin: str | None = None, expect: int = 0,
            may_print: Iterable[str] = (), env: dict[str, str] | None = None) -> Record:
        """Run `accessgov --db DB <command>`; with `stdin`, sample /proc while it waits."""
        argv = [sys.executable, "-m", "accessgov", "--db", str(self.term.db),
                *shlex.split(command)]
        env = dict(env or self.term.env)
        process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        samples: list[bytes] = []
        try:
            if stdin is not None:
                samples = self._sample_proc(process.pid, argv)
            out, err = process.communicate((stdin or "").encode(), timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        record = Record(argv, env, out, err, process.returncode, frozenset(may_print), samples)
        self.records.append(record)
        assert b"Traceback" not in err, err
        assert record.returncode == expect, (
            f"accessgov {command} exited {record.returncode}, expected {expect}\n"
            f"stdout: {out!r}\nstderr: {err!r}")
        self._snapshot_register()
        return record

    @staticmethod
    def _sample_proc(pid: int, argv: list[str]) -> list[bytes]:
        """The program's argv and environment as every user's `ps` sees them, read while it
        is running (before the secret is written to its stdin)."""
        proc = Path(f"/proc/{pid}")
        expected = b"".join(os.fsencode(arg) + b"\0" for arg in argv)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until exec has replaced the forked test process
            cmdline = (proc / "cmdline").read_bytes()
            if cmdline == expected:
                return [cmdline, (proc / "environ").read_bytes()]
            time.sleep(0.001)
        raise AssertionError("never saw the accessgov process start")

    def _snapshot_register(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            path = self.term.db.with_name(self.term.db.name + suffix)
            if path.exists():
                self.register_bytes += path.read_bytes()
                self.wal_seen |= suffix == "-wal"

    def code(self, person: str) -> str:
        return self.term.code(person)


def keep_wal(db: Path) -> subprocess.Popen[str]:
    """A reader holding the register open in another process, so that SQLite keeps the -wal
    and -shm files on disk between commands (the last connection to close deletes them) and
    the test can look inside them. Another process, because reading the files from this one
    would drop the reader's POSIX locks (SQLite's "how to corrupt a database", 2.2)."""
    script = ("import sqlite3, sys\n"
              "conn = sqlite3.connect(sys.argv[1])\n"
              "conn.execute('SELECT count(*) FROM sqlite_master').fetchall()\n"
              "print('ready', flush=True)\n"
              "sys.stdin.read()\n")
    keeper = subprocess.Popen([sys.executable, "-c", script, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert keeper.stdout is not None and keeper.stdout.readline() == "ready\n"
    return keeper


def canary_forms(value: str) -> list[bytes]:
    """The bytes to look for: the text, and the key bytes inside a base32 or base64 text."""
    forms = [value.encode()]
    if value.startswith("otpauth://"):
        value = seed_from_uri(value)
        forms.append(value.encode())
    compact = value.replace(" ", "").upper()
    with contextlib.suppress(ValueError):
        forms.append(base64.b32decode(compact + "=" * (-len(compact) % 8)))
    with contextlib.suppress(ValueError):
        forms.append(base64.b64decode(value, validate=True))
    return [form for form in forms if len(form) >= 10]


def store_reader(backend: str, term: Terminal, slug: str,
                 server: servers.OpenBaoServer | None) -> Callable[[str], str]:
    """Read a value from the real store with its own tools (bao / secret-tool)."""
    def read(path: str) -> str:
        if backend == "vault":
            assert server is not None
            result = server.bao("kv", "get", "-mount=secret", "-field=value",
                                f"accessgov/{slug}/{path}")
        else:
            result = subprocess.run(
                ["secret-tool", "lookup", "service", f"accessgov/{slug}", "username", path],
                env=term.env, capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 0 and result.stdout, result.stderr
        return result.stdout
    return read


@pytest.fixture(params=["vault", "keyring"])
def backend(request: pytest.FixtureRequest) -> tuple[str, servers.OpenBaoServer | None]:
    if request.param == "vault":
        return "vault", request.getfixturevalue("openbao")
    request.getfixturevalue("secret_service")
    return "keyring", None


def test_secrets_appear_only_in_the_store_and_on_the_stdout_meant_for_them(
        tmp_path: Path, backend: tuple[str, servers.OpenBaoServer | None]) -> None:
    kind, server = backend
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    term = terminal(tmp_path, TMPDIR=str(private_tmp))
    jdoe_env = term.env | {"XDG_RUNTIME_DIR": str(tmp_path / "run-jdoe")}
    (tmp_path / "run-jdoe").mkdir(mode=0o700)
    sh = Recorder(term)
    tag = secrets.token_hex(6)
    canaries = {
        "password": f"CANARY-pw-{tag}",
        "rotated": f"CANARY-pw2-{tag}",
        "codes": "\n".join(f"CANARY-rc-{tag}-{n}" for n in range(1, 6)),
        "seed": f"otpauth://totp/TikTok:interact?secret={pyotp.random_base32()}&issuer=TikTok",
        "token": f"CANARY-tok-{tag}",
        "bad-seed": f"CANARY-badseed-{tag}!",
        "duplicate": f"CANARY-dup-{tag}",
        "unauthorised": f"CANARY-noauth-{tag}",
    }

    # Set-up: the CEO enrolled and logged in; jdoe enrolled and logged in on "their" machine.
    slug = f"c{tag}"
    init = f"--backend vault --vault-url {server.url}" if server else "--backend keyring"
    sh.run(f"init --org InterAct --slug {slug} {init}")
    keeper = keep_wal(term.db)
    try:
        sh.run('person add vperkins --name "Vickie Perkins" --email v@example.org '
               '--category ceo')
        # The CEO's accounts, entered during set-up with her as their owner.
        sh.run("account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
               "--purpose 'Short videos' --access shared-login --mfa totp")
        sh.run("account add insta --platform instagram --handle @interact --owner vperkins "
               "--purpose 'Events' --mfa totp")
        enrolled = sh.run("mfa enrol vperkins", may_print={"seed:vperkins"})
        term.seeds["vperkins"] = seed_from_uri(enrolled.stdout.decode().splitlines()[0])
        clear_of_a_step_boundary()
        sh.run(f"mfa verify vperkins --otp {sh.code('vperkins')}")
        sh.run(f"login --as vperkins --otp {sh.code('vperkins')}")
        sh.run('person add jdoe --name "Jo Doe" --email j@example.org --category employee')
        sh.run('person add spatel --name "Sonal Patel" --email s@example.org '
               '--category trustee --board-minute "BM 2026/01 item 2"')
        sh.run("mfa enrol jdoe")  # the CEO invites; jdoe enrols on their own device
        enrolled = sh.run("mfa enrol jdoe --as jdoe", may_print={"seed:jdoe"}, env=jdoe_env)
        term.seeds["jdoe"] = seed_from_uri(enrolled.stdout.decode().splitlines()[0])
        clear_of_a_step_boundary()
        sh.run(f"mfa verify jdoe --otp {sh.code('jdoe')}", env=jdoe_env)
        sh.run(f"login --as jdoe --otp {sh.code('jdoe')}", env=jdoe_env)
        sh.run("grant add jdoe tiktok-main --role member --reason 'Posts clips'")

        # Secrets in, always on stdin.
        sh.run("cred set tiktok-main --kind password --stdin", stdin=canaries["password"] + "\n")
        sh.run("cred set tiktok-main --kind recovery-codes --stdin",
               stdin=canaries["codes"] + "\n")
        sh.run("cred set tiktok-main --kind totp-seed --stdin", stdin=canaries["seed"] + "\n")
        sh.run("cred set tiktok-main --kind api-token --stdin", stdin=canaries["token"] + "\n")
        sh.run("cred rotate tiktok-main --stdin", stdin=canaries["rotated"] + "\n")
        shown = sh.run("cred rotate tiktok-main --kind api-token --generate --length 40 --show",
                       may_print={"generated"})
        canaries["generated"] = shown.stdout.decode().splitlines()[-1]
        assert len(canaries["generated"]) == 40

        # Secrets out, to the grant holder, each on the stdout of the command meant for it.
        assert sh.run("cred reveal tiktok-main", env=jdoe_env,
                      may_print={"rotated"}).stdout.decode() == canaries["rotated"]
        assert sh.run("cred reveal tiktok-main --kind recovery-codes", env=jdoe_env,
                      may_print={"codes"}).stdout.decode() == canaries["codes"]
        assert sh.run("cred reveal tiktok-main --kind totp-seed", env=jdoe_env,
                      may_print={"seed"}).stdout.decode() == canaries["seed"]
        assert sh.run("cred reveal tiktok-main --kind api-token", env=jdoe_env,
                      may_print={"generated"}).stdout.decode() == canaries["generated"]
        assert sh.run("cred reveal tiktok-main --kind password",
                      may_print={"rotated"}).stdout.decode() == canaries["rotated"]
        code = sh.run("otp tiktok-main", env=jdoe_env).stdout.decode().strip()
        assert code.isdigit() and len(code) == 6

        # Failures: none may echo what it was given or what it guards.
        now = int(time.time())
        valid = {pyotp.TOTP(term.seeds["jdoe"]).at(now + d) for d in (-60, -30, 0, 30, 60)}
        wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
        sh.run(f"cred reveal tiktok-main --as jdoe --otp {wrong}", env=jdoe_env, expect=3)
        sh.run("cred reveal tiktok-main --as spatel", expect=3)
        sh.run("cred set insta --kind totp-seed --stdin", stdin=canaries["bad-seed"] + "\n",
               expect=2)
        sh.run("cred set tiktok-main --kind password --stdin",
               stdin=canaries["duplicate"] + "\n", expect=2)
        sh.run("cred set insta --kind password --stdin", env=jdoe_env,
               stdin=canaries["unauthorised"] + "\n", expect=3)
        sh.run("cred reveal insta --kind password", env=jdoe_env, expect=2)
        sh.run("otp insta", env=jdoe_env, expect=2)

        # Every listing and export, to the screen and to files.
        exports = tmp_path / "exports"
        exports.mkdir()
        listings = ["cred list", "cred list --account tiktok-main", "grant list",
                    "person show jdoe", "person show vperkins", "account show tiktok-main",
                    "audit log", "audit verify"]
        for listing in listings:
            sh.run(listing)  # the table, on the screen
            for fmt in ("table", "json", "csv"):
                name = listing.replace(" ", "-").replace("--", "")
                sh.run(f"{listing} --format {fmt} -o {exports / f'{name}.{fmt}'}")
        sh.run("audit log --format json")
        sh.run("audit log --format csv")
        sh.run(f"audit head -o {exports / 'head.json'}")
        sh.run(f"audit verify --anchor {exports / 'head.json'}")
        sh.run("logout")
        sh.run("logout", env=jdoe_env)
    finally:
        assert keeper.stdin is not None
        keeper.stdin.close()
        keeper.wait(timeout=30)

    # The operators' seeds and the audit key, read from the store itself, are canaries too.
    read = store_reader(kind, term, slug, server)
    for person in ("vperkins", "jdoe"):
        assert read(f"mfa/{person}") == term.seeds[person]
        canaries[f"seed:{person}"] = term.seeds[person]
    canaries["audit-key"] = read("audit/key")
    assert read("tiktok-main/password") == canaries["rotated"]

    # -- now look everywhere -------------------------------------------------------------
    files = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert any(path.suffix == ".csv" for path in files) and sh.wal_seen
    # Tracebacks go to the user's state folder, which is inside tmp_path here.
    tracebacks = [path for path in files if path.name.startswith("accessgov-error-")]
    assert not tracebacks, tracebacks
    for label, value in canaries.items():
        for form in canary_forms(value) + [line.encode() for line in value.splitlines()]:
            if len(form) < 10:
                continue
            where = f"canary {label} ({form[:12]!r}...)"
            assert form not in sh.register_bytes, f"{where} is in the register, -wal or -shm"
            for path, content in files.items():
                assert form not in content, f"{where} is in {path}"
            for record in sh.records:
                command = " ".join(record.argv[4:])
                assert form not in " ".join(record.argv).encode(), f"{where} in argv: {command}"
                for name, setting in record.env.items():
                    assert form not in setting.encode(), f"{where} in env {name}: {command}"
                for sample in record.proc_samples:
                    assert form not in sample, f"{where} in /proc of: {command}"
                assert form not in record.stderr, f"{where} in the stderr of: {command}"
                if label not in record.may_print:
                    assert form not in record.stdout, f"{where} in the stdout of: {command}"
    # The /proc sampling really happened, for every secret given on stdin.
    sampled = [record for record in sh.records if record.proc_samples]
    assert [record.argv for record in sampled] == [
        record.argv for record in sh.records if "--stdin" in record.argv]
    assert len(sampled) == 8
