"""The tamper matrix: for every sealed table, for a sample of its rows, change each column,
delete the row, insert a copy, put back an older copy. `audit verify` must name every one.

Each case runs on its own copy of one register that has rows in every sealed table.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from accessgov.audit.verification import verify_register
from accessgov.db import seals
from accessgov.db.register import Register
from accessgov.workspace import Workspace
from tests.support.behind import behind_the_log, file_only, read_dicts
from tests.support.shell import Shell

ROWS_PER_TABLE = 2
# The tables the `everything` register must have rows in (every sealed table, as features
# that fill the others are added to the fixture).
CORE = ("settings", "people", "accounts", "grants", "approvals", "delegations",
        "delegation_accounts", "mfa", "sessions", "credentials", "credential_versions",
        "exposures", "policy_reviews", "review_campaigns", "review_decisions",
        "offboarding_cases", "offboarding_items")


@pytest.fixture
def everything(shared: Shell) -> Shell:
    """A register with rows in every sealed table, and some of them changed since written."""
    sh = shared
    sh.run(f'person add del1 --name "Del One" --email d1@example.org --category employee '
           f'{sh.as_("vperkins")}')
    sh.enrol("del1", by="vperkins")
    sh.enrol("jdoe", by="vperkins")
    sh.run(f"delegate add del1 --account instagram-main --account tiktok-main "
           f"{sh.as_('vperkins')}")
    sh.run(f"cred reveal tiktok-main {sh.as_('jdoe')}")
    sh.run(f"cred rotate tiktok-main --stdin {sh.as_('vperkins')}", input="Second-Pass-1\n")
    sh.run(f"grant add del1 instagram-main --role editor --reason x {sh.as_('vperkins')}")
    sh.run(f"grant revoke G-0002 --reason done {sh.as_('spatel')}")
    # The policy's annual review, a closed access review and an open one, with decisions.
    sh.run(f"policy reviewed --date {sh.clock.now.date().isoformat()} {sh.as_('spatel')}")
    sh.run(f"review start --quarter 2026-Q1 --due 2099-01-01 {sh.as_('vperkins')}")
    sh.run(f"review decide 2026-Q1 1 keep {sh.as_('spatel')}")
    sh.run(f"review close 2026-Q1 {sh.as_('spatel')}")
    sh.run(f"review start --quarter 2026-Q2 --due 2099-01-01 {sh.as_('vperkins')}")
    sh.run(f"review decide 2026-Q2 1 revoke {sh.as_('spatel')}")
    # Someone on the shared login leaves: one item ticked by hand, one by the rotation.
    sh.run(f'person add leav --name "Lee Leaver" --email l@example.org --category volunteer '
           f'{sh.as_("vperkins")}')
    sh.run(f"grant add leav tiktok-main --role member --reason x {sh.as_('vperkins')}")
    sh.run(f"offboard start leav {sh.as_('vperkins')}")
    sh.run(f"offboard done leav 1 {sh.as_('vperkins')}")
    sh.run(f"cred rotate tiktok-main --stdin {sh.as_('vperkins')}", input="Third-Pass-1\n")
    sh.run(f"login --as spatel --otp {sh.code('spatel')}")
    return sh


def keys_for(sh: Shell) -> seals.Trust:
    workspace = Workspace(sh.db, env={}, backend_factory=sh.backend_factory)
    try:
        return workspace.trust
    finally:
        workspace.close()


def check(db: Path, keys: seals.Trust) -> set[tuple[str, str]]:
    register = Register.open(db)
    try:
        report = verify_register(register, keys, None)
        assert report.verdict.ok, "the chain itself was not touched"
        return {(finding.table, finding.row) for finding in report.findings}
    finally:
        register.close()


def changed(value: Any) -> Any:
    if value is None:
        return "x"
    if isinstance(value, int):
        return value + 7919  # clear of every other row's number, should it be unique
    return f"{value}x"


def copied(value: Any) -> Any:
    """A new value for a copy's key or unique column, clear of every existing row."""
    return value + 100_000 if isinstance(value, int) else f"{value}-copy"


def cases(db: Path) -> list[tuple[str, str, str, str]]:
    """(table, row key, kind, column) for every case of the matrix."""
    found = []
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        for table, keys in seals.SEALED.items():
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY rowid LIMIT ?",
                                (ROWS_PER_TABLE,)).fetchall()
            assert rows or table not in CORE, f"the register has no {table} rows to tamper with"
            for row in rows:
                key = "\t".join(str(row[column]) for column in keys)
                found += [(table, key, "change", column) for column in row.keys()]  # noqa: SIM118 (a sqlite3.Row)
                found += [(table, key, "delete", ""), (table, key, "copy", "")]
    conn.close()
    return found


def tamper(db: Path, table: str, key: str, kind: str, column: str) -> set[tuple[str, str]]:
    """Make the change; return the (table, key) findings that count as naming it."""
    where = " AND ".join(f"{k} = ?" for k in seals.SEALED[table])
    params = key.split("\t")
    with sqlite3.connect(db) as conn:
        row = conn.execute(f"SELECT * FROM {table} WHERE {where}", params).fetchone()
        names = [d[0] for d in conn.execute(f"SELECT * FROM {table} LIMIT 0").description]
        if kind == "change":
            value = changed(row[names.index(column)])
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", [value, *params])
            if column in seals.SEALED[table]:  # the row now has another key
                new = [value if k == column else row[names.index(k)]
                       for k in seals.SEALED[table]]
                return {(table, key), (table, "\t".join(map(str, new)))}
        elif kind == "delete":
            conn.execute(f"DELETE FROM {table} WHERE {where}", params)
        else:  # a copy under a new key, seal and all
            copy = list(row)
            for column in {seals.SEALED[table][0], *unique_columns(conn, table)}:
                copy[names.index(column)] = copied(copy[names.index(column)])
            marks = ", ".join("?" for _ in copy)
            conn.execute(f"INSERT INTO {table} VALUES ({marks})", copy)
            new = [copy[names.index(k)] for k in seals.SEALED[table]]
            return {(table, "\t".join(map(str, new)))}
    conn.close()
    return {(table, key)}


def unique_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """Columns under a UNIQUE index other than the key (a copy must differ there too)."""
    columns: set[str] = set()
    for index in conn.execute(f"PRAGMA index_list({table})"):
        if index[2] and index[3] == "c":  # unique, made by CREATE INDEX
            columns |= {info[2] for info in conn.execute(f"PRAGMA index_info({index[1]})")}
    return columns


@file_only("hundreds of cases, each on its own copy of the file; on PostgreSQL the same "
           "seals and row lists are checked by the attacks in tests/cli (test_audit_chain, "
           "test_attacks, test_missing_rows)")
def test_every_change_deletion_and_copy_behind_the_log_is_named(
        everything: Shell, tmp_path: Path) -> None:
    keys = keys_for(everything)
    assert check(everything.db, keys) == set(), "the untouched register checks out"
    counts: Counter[str] = Counter()
    missed = []
    matrix = cases(everything.db)
    for number, (table, key, kind, column) in enumerate(matrix):
        copy = tmp_path / f"case-{number}.db"
        shutil.copy(everything.db, copy)
        expected = tamper(copy, table, key, kind, column)
        found = check(copy, keys)
        if not expected & found:
            missed.append((table, key, kind, column))
        counts[kind] += 1
        counts[f"table:{table}"] += 1
        copy.unlink()
    print(f"\ntamper matrix: {len(matrix)} cases, {dict(counts)}")
    assert not missed, missed
    assert len(matrix) > 250


def test_an_older_copy_put_back_is_named(everything: Shell, tmp_path: Path) -> None:
    """The seal of an older copy is genuine: only the log says it is no longer current."""
    keys = keys_for(everything)
    (before,) = read_dicts(everything.db, "SELECT * FROM grants WHERE id = 'G-0001'")
    everything.run(f"grant revoke G-0001 --reason later {everything.as_('vperkins')}")
    columns = ", ".join(f"{name} = ?" for name in before)
    behind_the_log(everything.db, f"UPDATE grants SET {columns} WHERE id = 'G-0001'",
                   params=tuple(before.values()))
    assert ("grants", "G-0001") in check(everything.db, keys)
