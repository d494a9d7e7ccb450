"""Several administrators on their own machines, sharing a register in a real PostgreSQL.

The server is Debian's `postgresql`, started by the suite as an unprivileged user in its own
temporary folder (tests/support/postgres.py). Secrets are in a real OpenBao. Every program
here is the real `accessgov`, in its own process, with its own runtime (session) folder.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

from tests.support import servers
from tests.support.postgres import PostgresServer
from tests.support.shell import Shell, one_line_error, seed_from_uri
from tests.support.terminal import Terminal, terminal

pytestmark = pytest.mark.integration

ROLE = "accessgov_operators"


@pytest.fixture
def office(tmp_path: Path, openbao: servers.OpenBaoServer,
           postgres_server: PostgresServer) -> Terminal:
    """The CEO's register in PostgreSQL after set-up, with a trustee and an operations
    manager: three people, three machines (runtime folders), each logged in."""
    term = terminal(tmp_path)
    term.database = postgres_server.new_database()
    term.run(f"init --org InterAct --slug pg{secrets.token_hex(4)} --backend vault "
             f"--vault-url {openbao.url}")
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    term.enrol("vperkins")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}", device="vperkins")
    term.run('person add spatel --name "Sonal Patel" --email s@example.org --category trustee '
             '--board-minute "BM 2026/01 item 2"', device="vperkins")
    term.run('person add omar --name "Omar Ali" --email o@example.org --category trustee '
             '--board-minute "BM 2026/01 item 3"', device="vperkins")
    for who in ("spatel", "omar"):
        term.run(f"mfa enrol {who}", device="vperkins")
        uri = term.run(f"mfa enrol {who} --as {who}", device=who).stdout.splitlines()[0]
        term.seeds[who] = seed_from_uri(uri)
        term.run(f"mfa verify {who} --otp {term.code(who)}", device=who)
        term.run(f"login --as {who} --otp {term.code(who)}", device=who)
    return term


def test_three_operators_writing_at_once_all_land_on_one_chain(office: Terminal) -> None:
    """Three people on three machines add people at the same moment, several times each:
    every change lands, the chain verifies, and nobody sees a lock error."""
    def start(who: str, n: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "accessgov", *office.where, "person", "add",
             f"{who}-v{n}", "--name", f"Volunteer {n} of {who}", "--email",
             f"{who}{n}@example.org", "--category", "volunteer"],
            env=office.device_env(who), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)

    writers = [start(who, n) for n in range(4) for who in ("vperkins", "spatel", "omar")]
    outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in writers]  # type: ignore[union-attr]
    assert all(code == 0 for code, _ in outcomes), outcomes
    assert not any("Traceback" in err or "busy" in err for _, err in outcomes)
    added = json.loads(office.run("audit log --action person.add --format json").stdout)
    assert len(added) == 3 + 12
    assert {event["actor"] for event in added[3:]} == {"vperkins", "spatel", "omar"}
    seqs = [event["seq"] for event in json.loads(office.run("audit log --format json").stdout)]
    assert seqs == list(range(1, len(seqs) + 1))  # one chain, no gap, no fork
    assert "intact" in office.run("audit verify").stdout


def test_the_database_itself_refuses_an_operator_changing_the_audit_log(
        office: Terminal, postgres_server: PostgresServer) -> None:
    """The owner runs 'db setup'; Sonal's own database login is in the operators' role. She
    can work through accessgov, but PostgreSQL refuses her any DELETE, UPDATE or TRUNCATE of
    the audit log, and any change to the tables themselves."""
    result = office.run("db setup")
    assert f"the role {ROLE} may read and write" in result.stdout
    assert "not started yet" not in result.stdout
    office.run("db setup")  # again, after an upgrade: nothing breaks
    database = office.database
    assert database is not None
    name = urlparse(database).path.lstrip("/")
    password = secrets.token_urlsafe(12)
    postgres_server.sql(f"CREATE ROLE sonal_login LOGIN PASSWORD '{password}' IN ROLE {ROLE}")
    as_sonal = f"postgresql://sonal_login:{password}@127.0.0.1:{postgres_server.port}/{name}"

    sonal = Terminal(office.db, office.env, seeds=office.seeds, database=as_sonal)
    sonal.run(f"login --as spatel --otp {office.code('spatel')}", device="spatel")
    sonal.run('person add kim --name "Kim Lee" --email k@example.org --category volunteer',
              device="spatel")
    assert "intact" in sonal.run("audit verify").stdout

    with psycopg.connect(as_sonal, autocommit=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] > 0  # type: ignore[index]
        for statement in ("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)",
                          "UPDATE audit SET actor = 'vperkins'",
                          "TRUNCATE audit",
                          "DROP TABLE audit",
                          "ALTER TABLE audit DISABLE TRIGGER ALL",
                          "ALTER TABLE grants DISABLE TRIGGER ALL",
                          "CREATE TABLE mine (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    assert "intact" in office.run("audit verify").stdout


def test_db_setup_on_an_sqlite_register_says_what_protects_it(org: Shell) -> None:
    if not isinstance(org.db, Path):
        pytest.skip("the suite runs its registers on PostgreSQL (ACCESSGOV_TEST_ENGINE)")
    message = one_line_error(org.run("db setup", expect=2))
    assert "protected by its file's permissions (0600)" in message
