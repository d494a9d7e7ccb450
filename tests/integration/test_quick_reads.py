"""A small read of a register in PostgreSQL goes to libpq directly (accessgov.db.libpq), so a
command like `grant list` starts without loading psycopg. Its rows must be psycopg's rows,
to the type, and whatever it does not know it hands to psycopg, whose answers and errors the
user then sees. Everything here runs against the suite's real PostgreSQL server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from accessgov.db.libpq import MOST_VALUES, QuickReader
from accessgov.db.postgres import PostgresRegister, numbered, translate
from accessgov.db.register import DatabaseUrl
from tests.governance.test_startup import loaded
from tests.support.postgres import PostgresServer
from tests.support.shell import Shell

pytestmark = pytest.mark.integration


@pytest.fixture
def register_location(postgres_server: PostgresServer, prepared_tables: str) -> DatabaseUrl:
    """Every register of this module is in PostgreSQL, whichever engine the suite runs on."""
    return DatabaseUrl(postgres_server.new_database(prepared_tables))


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return postgres_server.new_database()


def quick_rows(url: str, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
               ) -> list[dict[str, Any]] | None:
    reader = QuickReader.connect(url, timeout=10, application="accessgov-test")
    assert reader is not None, "the suite's server must be reachable through libpq"
    try:
        return reader.rows(*numbered(sql), params)
    finally:
        reader.close()


def psycopg_rows(url: str, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
                 ) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True) as pg:
        return pg.cursor(row_factory=dict_row).execute(translate(sql), params).fetchall()


@pytest.mark.parametrize(("sql", "params"), [
    ("SELECT 1 AS small, 40000 AS medium, 2147483648 AS big, 7::oid AS oid, true AS yes, "
     "false AS no, NULL::text AS nothing, NULL::bigint AS no_number", ()),
    ("SELECT 'é ünïcode ☃ \t tab'::text AS t, ''::text AS empty, 'x'::varchar AS v, "
     "'ab'::char(4) AS padded, 'nm'::name AS nm, 'q'::\"char\" AS c", ()),
    ("SELECT 1.50::numeric AS exact, 2.5::float8 AS f, 'Infinity'::float8 AS inf, "
     "1.25::real AS r, 12345678901234567890::numeric AS wide", ()),
    ("SELECT '{\"a\": [1, null, \"é\"]}'::json AS j, '{\"b\": 2.5}'::jsonb AS jb", ()),
    ("SELECT ?::text AS s, ? AS small, ? AS big, ? AS huge, ? AS yes, ?::int AS nothing",
     ("it's 100% ?", 7, 2**40, 2**70, True, None)),
    ("SELECT :who AS a, :who || '!' AS b, :n + 1 AS c, '::' || ':x' AS literal",
     {"who": "Sonal", "n": 41}),
    ("SELECT g, g::text AS t, g % 2 = 0 AS even FROM generate_series(1, 500) g "
     "WHERE g % 7 = ? ORDER BY g", (3,)),
    ("SELECT table_name FROM information_schema.tables WHERE table_name = ?", ("pg_type",)),
    ("SELECT 1 AS a WHERE false", ()),
])
def test_a_small_read_gives_psycopgs_own_rows(url: str, sql: str,
                                              params: Sequence[Any] | Mapping[str, Any]) -> None:
    quick = quick_rows(url, sql, params)
    assert quick is not None, "handed back a read it should answer"
    assert repr(quick) == repr(psycopg_rows(url, sql, params))  # the same values, same types


@pytest.mark.parametrize(("sql", "params", "why"), [
    ("CREATE TABLE kept (n int)", (), "anything but a SELECT"),
    ("SELECT now() AS at", (), "a type it does not convert (timestamptz)"),
    ("SELECT 'x'::bytea AS b", (), "a type it does not convert (bytea)"),
    ("SELECT ?::float8 AS f", (2.5,), "a parameter it does not send (float)"),
    ("SELECT ?::bytea AS b", (b"x",), "a parameter it does not send (bytes)"),
    ("SELECT ?::text AS s", ("nul \x00 inside",), "a parameter psycopg refuses"),
    ("SELECT * FROM no_such_table", (), "an error"),
    ("SELECT :missing AS m", {"other": 1}, "a parameter not given"),
    ("SELECT ?::int AS a", (1, 2), "more parameters than placeholders"),
    (f"SELECT g FROM generate_series(1, {MOST_VALUES + 1}) g", (), "a big result"),
])
def test_what_the_quick_reader_does_not_know_it_hands_back(url: str, sql: str,
                                                           params: Any, why: str) -> None:
    assert quick_rows(url, sql, params) is None, why
    with psycopg.connect(url) as pg:  # and it wrote nothing
        assert pg.execute("SELECT to_regclass('kept')").fetchone() == (None,)


def started_register(url: str) -> PostgresRegister:
    PostgresRegister.create(DatabaseUrl(url)).close()
    with psycopg.connect(url) as pg:  # the temporary table accessgov's triggers write to
        pg.execute("CREATE TEMP TABLE touched (tbl text, pk text, how text)")
        pg.execute("INSERT INTO settings (key, value) VALUES ('org_slug', 'interact')")
    return PostgresRegister.open(DatabaseUrl(url))


def test_a_statement_handed_back_is_psycopgs_and_so_is_every_later_one(url: str) -> None:
    register = started_register(url)
    try:
        assert register.value("SELECT value FROM settings WHERE key = 'org_slug'") == "interact"
        with pytest.raises(psycopg.errors.UndefinedTable):  # psycopg's own error, as before
            register.rows("SELECT * FROM no_such_table")
        # A change's reads see its own writes: one session from the first statement on.
        with register.transaction():
            register.start_tracking({}, {})
            register.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
            assert register.value("SELECT value FROM settings WHERE key = 'k'") == "v"
            register.execute("DELETE FROM settings WHERE key = 'k'")
        assert register.value("SELECT COUNT(*) FROM settings WHERE key = 'k'") == 0
    finally:
        register.close()


PROBE = """
import sys
from accessgov.db.register import DatabaseUrl, Register
register = Register.open(DatabaseUrl(sys.argv[1]))
register.rows("SELECT key FROM settings ORDER BY key")
print("psycopg" in sys.modules)
register.rows("SELECT now() AS at")
print("psycopg" in sys.modules)
register.close()
"""


def test_psycopg_is_loaded_only_when_a_read_needs_it(url: str) -> None:
    started_register(url).close()
    done = subprocess.run([sys.executable, "-c", PROBE, url], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "True"]


def accessgov(sh: Shell, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "accessgov", *sh.where, *command.split()],
                          capture_output=True, text=True, env=os.environ | env)


@pytest.mark.parametrize("command", [
    "grant list --format json", "grant list --person jdoe --format json",
    "grant list --account tiktok-main --format csv", "grant show G-0001 --format json",
    "grant show G-0001", "grant list"])
def test_reading_grants_in_postgresql_loads_no_psycopg_and_shows_the_same(
        shared: Shell, command: str) -> None:
    assert "psycopg" not in loaded(shared, command)
    quick = accessgov(shared, command)
    whole = accessgov(shared, command, ACCESSGOV_PSYCOPG_ONLY="1")
    assert quick.returncode == whole.returncode == 0, quick.stderr
    assert quick.stdout == whole.stdout
    assert "G-0001" in quick.stdout


def test_an_unknown_grant_reads_the_same_way_on_both_paths(shared: Shell) -> None:
    quick = accessgov(shared, "grant show G-9999")
    whole = accessgov(shared, "grant show G-9999", ACCESSGOV_PSYCOPG_ONLY="1")
    assert quick.returncode == whole.returncode != 0
    assert quick.stderr == whole.stderr
    assert len(quick.stderr.strip().splitlines()) == 1


def test_an_unreachable_database_says_so_in_one_line_as_psycopg_would(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    where = ["--database", f"postgresql://nobody:Pw-Canary-4412@127.0.0.1:{port}/register"]
    runs = [subprocess.run([sys.executable, "-m", "accessgov", *where, "grant", "list"],
                           capture_output=True, text=True, cwd=tmp_path,
                           env=os.environ | extra)
            for extra in ({}, {"ACCESSGOV_PSYCOPG_ONLY": "1"})]
    quick, whole = runs
    assert quick.returncode == whole.returncode != 0
    assert quick.stderr == whole.stderr
    assert "cannot be reached" in quick.stderr
    assert len(quick.stderr.strip().splitlines()) == 1
    assert "Pw-Canary-4412" not in quick.stderr + quick.stdout


def test_a_libpq_planted_in_the_current_folder_is_never_loaded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m accessgov` puts the current folder first on sys.path. A folder named as
    psycopg's libraries, planted there without the package itself, is not where `import`
    would find psycopg_binary: its libpq is never loaded."""
    from accessgov.db import libpq

    planted = tmp_path / "psycopg_binary.libs"
    planted.mkdir()
    (planted / "libpq-planted.so.5").write_bytes(b"not a library")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    paths = libpq._library_paths()
    assert not [path for path in paths if "planted" in path]
    assert any(os.path.basename(path).startswith("libpq") and os.path.isabs(path)
               for path in paths), "psycopg's own libpq should still be found"
