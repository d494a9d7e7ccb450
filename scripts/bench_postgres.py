"""The register in PostgreSQL, timed (issue 14): the big register copied into a throwaway
PostgreSQL cluster (Debian's `postgresql`, started as tests/support/postgres.py does), then
`grant list --person P --format json` beside its SQLite figure, `check`, `review export
--format csv`, and three writers making 100 changes each at once.

The copy is the SQLite register's rows, table by table, into the schema accessgov itself
makes on PostgreSQL: a row's seal covers its values in column order, and both engines hold
the same columns in the same order, so the copy verifies as the original does. It keeps the
original's place in the secret store (the review copy's own prefix, see bench.prepare_review).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from accessgov.db.postgres import PostgresRegister
from accessgov.db.register import DatabaseUrl
from tests.support.postgres import PostgresServer, start_postgres

WRITERS = 3
CHANGES_PER_WRITER = 100


def copy_into_postgres(source: Path, url: str) -> None:
    """Every row of the SQLite register `source` into a new register schema at `url`, in an
    area of the secret store of its own (the SQLite copy's chain head moves in its own)."""
    import psycopg

    from accessgov.audit.head import HEAD_PATH, record_of
    from accessgov.secrets.config import BackendConfig, open_backend

    PostgresRegister.create(DatabaseUrl(url)).close()
    lite = sqlite3.connect(source)
    try:
        tables = [name for (name,) in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        with psycopg.connect(url) as pg:
            # accessgov's triggers note written rows in these (see accessgov.db.postgres).
            pg.execute("CREATE TEMP TABLE touched (n bigserial PRIMARY KEY, tbl text, pk text, "
                       "how text)")
            pg.execute("CREATE TEMP TABLE counted (tbl text, parent text, how text)")
            pg.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in tables:
                columns = [row[1] for row in lite.execute(f"PRAGMA table_info({table})")]
                quoted = ", ".join(f'"{name}"' for name in columns)
                pg.execute(f"DELETE FROM {table}")
                with pg.cursor().copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in lite.execute(f"SELECT {quoted} FROM {table}"):
                        copy.write_row(row)
            for table, column in pg.execute(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE is_identity = 'YES' AND table_schema = current_schema()"):
                pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                           f"GREATEST((SELECT MAX({column}) FROM {table}), 1))")
        settings = dict(lite.execute("SELECT key, value FROM settings").fetchall())
    finally:
        lite.close()
    original = open_backend(BackendConfig.from_settings(settings))
    settings["backend_vault_prefix"] = f"bench-pg-{os.getpid()}"
    apart = open_backend(BackendConfig.from_settings(settings))
    for path in original.list_paths() or []:  # seeds, the audit key, the set-up marker
        if path != HEAD_PATH:
            apart.write(path, original.read(path), expect_version=0)
    # The chain head too, at the version the register last wrote (a record at an older
    # version is one reset behind the register's back, which every change refuses).
    stored = record_of(original).read()
    assert stored.head is not None
    for written in range(stored.version):
        record_of(apart).write(stored.head, expect_version=written)
    with psycopg.connect(url) as pg:
        pg.execute("CREATE TEMP TABLE touched (n bigserial PRIMARY KEY, tbl text, pk text, "
                   "how text)")
        pg.execute("UPDATE settings SET value = %s WHERE key = 'backend_vault_prefix'",
                   (settings["backend_vault_prefix"],))


@dataclasses.dataclass(frozen=True)
class PostgresSetup:
    """The big register (with a review started) in PostgreSQL, and a CEO session on it."""

    server: PostgresServer
    url: str
    runtime: Path


def prepare(started: Path, folder: Path, accessgov: list[str], env: dict[str, str],
            ceo: str) -> PostgresSetup:
    """The started-review copy of the big register in a new PostgreSQL cluster in `folder`,
    whose CEO logs in there (her seed read from the store, as her app would show codes)."""
    server = start_postgres(folder / "postgres")
    url = server.new_database()
    print("Copying the big register into PostgreSQL ...", flush=True)
    began = time.perf_counter()
    # In a process of its own: the bench's own memory would be every later child's peak.
    subprocess.run([sys.executable, __file__, str(started), url], env=env, check=True)
    print(f"  copied in {time.perf_counter() - began:.1f}s", flush=True)
    runtime = folder / "pg-run"
    runtime.mkdir(mode=0o700)
    code = _next_code(url, ceo)
    login = subprocess.run([*accessgov, "--database", url, "login", "--as", ceo, "--otp",
                            code, "--ttl", "12h"], env=env | {"XDG_RUNTIME_DIR": str(runtime)},
                           capture_output=True, text=True)
    if login.returncode != 0:
        raise SystemExit(f"the CEO could not log in to the PostgreSQL copy: {login.stderr}")
    return PostgresSetup(server, url, runtime)


def _next_code(url: str, person: str) -> str:
    """A code for a step later than the last one `person` used (waits for it)."""
    import psycopg
    import pyotp

    from accessgov.secrets.config import BackendConfig, open_backend

    with psycopg.connect(url) as pg:
        settings: dict[str, str] = dict(pg.execute("SELECT key, value FROM settings").fetchall())
    seed = open_backend(BackendConfig.from_settings(settings)).read(f"mfa/{person}")
    step = int(time.time()) // 30 + 1
    time.sleep(max(0.0, step * 30 - time.time() + 0.2))
    return str(pyotp.TOTP(seed).at(step * 30))


def writers(setup: PostgresSetup, accessgov: list[str], env: dict[str, str]) -> str:
    """Three writers making CHANGES_PER_WRITER changes each, at once, through the real
    program (one process per change, as a shell loop would): every change must land on one
    chain. A line for the table: changes per second."""
    script = (
        "import subprocess, sys\n"
        "command, writer, n = sys.argv[1:-2], sys.argv[-2], int(sys.argv[-1])\n"
        "for i in range(n):\n"
        "    subprocess.run([*command, 'person', 'add', f'w{writer}-{i}', '--name',\n"
        "                    f'Writer {writer} volunteer {i}', '--email',\n"
        "                    f'w{writer}.{i}@example.org', '--category', 'volunteer'],\n"
        "                   check=True, capture_output=True)\n")
    run_env = env | {"XDG_RUNTIME_DIR": str(setup.runtime)}
    command = [*accessgov, "--database", setup.url]
    began = time.perf_counter()
    processes = [subprocess.Popen([sys.executable, "-c", script, *command, str(writer),
                                   str(CHANGES_PER_WRITER)], env=run_env,
                                  stderr=subprocess.PIPE)
                 for writer in range(WRITERS)]
    failures = [p.stderr.read().decode(errors="replace") for p in processes  # type: ignore[union-attr]
                if p.wait() != 0]
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"a PostgreSQL writer failed: {failures[0][-500:]}")
    added = json.loads(subprocess.run(
        [*command, "audit", "log", "--action", "person.add", "--format", "json"],
        env=run_env, check=True, capture_output=True, text=True).stdout)
    landed = sum(1 for event in added if str(event["subject"]).startswith("w"))
    total = WRITERS * CHANGES_PER_WRITER
    verified = subprocess.run([*command, "audit", "verify", "--format", "json"], env=run_env,
                              capture_output=True, text=True)
    problem = json.loads(verified.stdout).get("problem") if verified.stdout else "no answer"
    outcome = "PASS" if landed == total and problem is None else "FAIL"
    return (f"{WRITERS} writers x {CHANGES_PER_WRITER} changes on PostgreSQL: {landed}/{total} "
            f"landed in {elapsed:.1f}s ({landed / elapsed:.1f} changes/s), chain "
            f"{'intact' if problem is None else 'BROKEN: ' + str(problem)}  {outcome}")


def stop(setup: PostgresSetup) -> None:
    setup.server.stop()
    shutil.rmtree(setup.runtime, ignore_errors=True)


def available() -> bool:
    """Whether PostgreSQL's server programs are installed."""
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


if __name__ == "__main__":  # the copy, in a process of its own (see `prepare`)
    copy_into_postgres(Path(sys.argv[1]), sys.argv[2])
