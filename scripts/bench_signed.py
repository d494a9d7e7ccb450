"""`audit verify` of a big signed log (issue 13): the big register's history, signed as the
openbao mode signs it, on this run's OpenBao.

The register is made by the real program in openbao mode (the administrator's `store setup`
and `store add-operator`, the operator's `store enrol`, `init --backend openbao`), then filled
with the big register's synthetic history: SHA-256 chained events, a grant's request and
approval in one change, every change's last event listing its rows with their seals and
signed with the operator's own transit key (in batches, by the bench's root token: the very
key, so the very signatures the operator would make). Its targets: a full `audit verify`
beside a floor of the same number of Ed25519 verifications with `cryptography`, and a repeat
`audit verify` after one more change (made through the program), which checks only the
signatures made since the last (accessgov.audit.proven).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from accessgov.audit import chain
from accessgov.db import seals
from tests.support import servers

OPERATOR = "p00000"  # the synthetic register's CEO
PASSWORD = "bench-operator-password-1"
SIGN_BATCH = 400  # OpenBao refuses a request of more than 1,000 JSON strings

Inserts = Mapping[str, tuple[str, Callable[[Any], Iterable[tuple[object, ...]]]]]
History = Callable[[Any], Iterator[tuple[str, str, str, list[tuple[str, str]]]]]


@dataclasses.dataclass(frozen=True)
class SignedSetup:
    """The signed register, and the operator's machine (a session open for the bench)."""

    db: Path
    env: dict[str, str]
    changes: int
    public_key: bytes


def prepare(accessgov: list[str], server: servers.OpenBaoServer, folder: Path,
            env: dict[str, str]) -> SignedSetup:
    """Set up OpenBao and the register through the real commands, then fill it."""
    import pyotp

    folder.mkdir(mode=0o700)
    db = folder / "signed.db"
    slug = f"bsig{os.getpid()}"
    admin = {k: v for k, v in env.items() if not k.startswith(("VAULT_", "BAO_"))} | server.env
    home = folder / "operator"
    (home / "run").mkdir(parents=True, mode=0o700)
    operator = {k: v for k, v in env.items() if not k.startswith(("VAULT_", "BAO_"))} | {
        "HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run"),
        "XDG_STATE_HOME": str(home / "state"), "VAULT_ADDR": server.url}

    def run(who: dict[str, str], *args: str, stdin: str = "") -> str:
        done = subprocess.run([*accessgov, "--db", str(db), *args], env=who, input=stdin,
                              capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"preparing the signed register: accessgov {' '.join(args)} "
                             f"exited {done.returncode}: {done.stderr.strip()}")
        return done.stdout

    run(admin, "store", "setup", "--slug", slug, "--vault-url", server.url)
    code = run(admin, "store", "add-operator", OPERATOR, "--slug", slug, "--vault-url",
               server.url, "--password-stdin", stdin=PASSWORD + "\n").splitlines()[0].strip()
    uri = run(operator, "store", "enrol", OPERATOR, "--slug", slug, "--vault-url", server.url,
              stdin=code + "\n").strip().splitlines()[0]
    totp = pyotp.TOTP(pyotp.parse_uri(uri).secret)
    first = _fresh_step()
    run(operator, "--as", OPERATOR, "init", "--org", "Bench signed", "--slug", slug,
        "--backend", "openbao", "--vault-url", server.url,
        stdin=f"{PASSWORD}\n{totp.at(first * 30)}\n")
    print("Signing the big register's history in OpenBao ...", flush=True)
    began = time.perf_counter()
    # In a process of its own: the bench's own memory would be every later child's peak.
    subprocess.run([sys.executable, __file__, str(db)], env=admin, check=True)
    changes = _changes(db)
    print(f"  {changes:,} changes signed in {time.perf_counter() - began:.1f}s", flush=True)
    second = _fresh_step(after=first)
    run(operator, "login", "--as", OPERATOR, "--password-stdin", "--otp",
        totp.at(second * 30), "--ttl", "8h", stdin=PASSWORD + "\n")
    verified = subprocess.run([*accessgov, "--db", str(db), "audit", "verify", "--format",
                               "json"], env=operator, capture_output=True, text=True)
    report = json.loads(verified.stdout or "{}")
    if not report.get("ok"):
        raise SystemExit(f"the signed register does not verify: {verified.stdout[:2000]} "
                         f"{verified.stderr.strip()}")
    return SignedSetup(db, operator, changes, _public_key(server))


def targets(target: Callable[..., Any], accessgov: list[str], signed: SignedSetup,
            events: int) -> list[Any]:
    """The floor, a full verify (the record of the last one forgotten first), and a verify
    after one more change (made, untimed, through the program by the operator)."""
    machine = [f"{name}={signed.env[name]}"
               for name in ("HOME", "XDG_RUNTIME_DIR", "XDG_STATE_HOME", "VAULT_ADDR")]
    as_operator = ["env", "-u", "VAULT_TOKEN", *machine, *accessgov, "--db", str(signed.db)]
    records = Path(signed.env["XDG_STATE_HOME"]) / "accessgov"
    forget = ["sh", "-c", f"rm -f '{records}'/verified-*.json"]
    one_more = ["sh", "-c", 'exec "$@" "b$(date +%s%N)" --name "Bench volunteer" --email '
                'b@example.org --category volunteer', "sh", *as_operator, "person", "add"]
    floor = f"floor: {signed.changes + 1:,} Ed25519 verifications (cryptography)"
    return [
        target(floor, [sys.executable, "-c", FLOOR, str(signed.db), signed.public_key.hex()],
               runs=3),
        target(f"audit verify, signed ({events:,} events, every signature)",
               [*as_operator, "audit", "verify"], runs=3, setup=[forget]),
        target("audit verify, signed, after one more change",
               [*as_operator, "audit", "verify"], 2.0, "s", runs=5, setup=[one_more]),
    ]


def _fresh_step(after: int = 0) -> int:
    """A TOTP time step later than `after` (OpenBao refuses a code used before)."""
    while int(time.time()) // 30 <= after:
        time.sleep(1)
    return int(time.time()) // 30


def _changes(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM audit WHERE signature IS NOT NULL "
                                "AND seq > 1").fetchone()[0])
    finally:
        conn.close()


def _bao(url: str, token: str, method: str, path: str,
         body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/v1/{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Vault-Token": token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            answer: dict[str, Any] = json.load(response)
            return answer
    except urllib.error.HTTPError as error:
        raise SystemExit(f"OpenBao answered {error.code} to {method} {path}: "
                         f"{error.read().decode(errors='replace')[:500]}") from None


def _sign(url: str, token: str, macs: list[str]) -> list[str]:
    """The operator's transit signatures over `macs`, in batches."""
    signatures: list[str] = []
    for start in range(0, len(macs), SIGN_BATCH):
        batch = [{"input": base64.b64encode(mac.encode("ascii")).decode("ascii")}
                 for mac in macs[start:start + SIGN_BATCH]]
        answer = _bao(url, token, "POST", f"transit/sign/accessgov-{OPERATOR}",
                      {"batch_input": batch})
        signatures += [result["signature"] for result in answer["data"]["batch_results"]]
    return signatures


def _public_key(server: servers.OpenBaoServer) -> bytes:
    key = _bao(server.url, server.root_token, "GET",
               f"transit/keys/accessgov-{OPERATOR}")["data"]["keys"]
    return base64.b64decode(key[str(max(int(version) for version in key))]["public_key"])


def fill(db: Path, scale: Any, inserts: Inserts, history: History,
         sign: Callable[[list[str]], list[str]]) -> int:
    """The synthetic rows and their signed history after the register's own events; the
    number of changes signed."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for sql, made in inserts.values():
            conn.executemany(sql, made(scale))
        for parent in seals.COUNTING:  # what accessgov counts as it seals a change
            conn.execute(f"UPDATE main.{parent} SET counts = {seals.counts_sql(parent)}")
        seq, prev, at = conn.execute(
            "SELECT seq, mac, at FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        planned = list(history(scale))
        written: dict[tuple[str, str], int] = {}
        for number, (_, _, _, rows) in enumerate(planned, start=seq + 1):
            for row in rows:
                written[row] = number
        sealed = _seal_rows(conn, inserts, written)
        events: list[list[Any]] = []
        last_of_change: list[int] = []
        for action, subject, details, rows in planned:
            seq += 1
            listed = "\n".join(f"+{table}\t{key}\t{sealed[(table, key)]}"
                               for table, key in rows)
            mac = hashlib.sha256(chain._message(seq, at, OPERATOR, action, subject, details,
                                                prev, listed)).hexdigest()
            events.append([seq, at, OPERATOR, action, subject, details, prev, mac, listed,
                           None, None])
            if rows:  # a change ends with the event that lists its rows
                last_of_change.append(len(events) - 1)
            prev = mac
        signatures = sign([events[index][7] for index in last_of_change])
        for index, signature in zip(last_of_change, signatures, strict=True):
            events[index][9:] = [OPERATOR, signature]
        conn.executemany("INSERT INTO audit (seq, at, actor, action, subject, details, prev, "
                         "mac, rows, signer, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         events)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return len(last_of_change)


def _seal_rows(conn: sqlite3.Connection, inserts: Inserts,
               written: dict[tuple[str, str], int]) -> dict[tuple[str, str], str]:
    """Each synthetic row's seal as a signed change lists it; (table, key) -> seal."""
    sealer = seals.ListedRowSeals()
    sealed: dict[tuple[str, str], str] = {}
    for table in inserts:
        names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")
                 if row[1] != "seal"]
        keys = [names.index(column) for column in seals.SEALED[table]]
        updates = []
        for values in conn.execute(f"SELECT rowid, {', '.join(names)} FROM {table}").fetchall():
            rowid, row = values[0], list(values[1:])
            key = "\t".join(str(row[i]) for i in keys)
            row[names.index("sealed_seq")] = written[(table, key)]
            seal = sealer.of(table, row)
            sealed[(table, key)] = seal
            updates.append((written[(table, key)], seal, rowid))
        conn.executemany(f"UPDATE {table} SET sealed_seq = ?, seal = ? WHERE rowid = ?",
                         updates)
    return sealed


# What the full verify cannot do with less: one Ed25519 check per signed change.
FLOOR = """
import base64, sqlite3, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[2]))
conn = sqlite3.connect(sys.argv[1])
for mac, signature in conn.execute(
        "SELECT mac, signature FROM audit WHERE signature IS NOT NULL"):
    key.verify(base64.b64decode(signature.split(":")[2]), mac.encode("ascii"))
"""


if __name__ == "__main__":  # the filling, in a process of its own (see `prepare`)
    import importlib

    bench: Any = importlib.import_module("bench")  # the big register's synthetic history
    fill(Path(sys.argv[1]), bench.BIG, bench.INSERTS, bench.events,
         lambda macs: _sign(os.environ["VAULT_ADDR"], os.environ["VAULT_TOKEN"], macs))
