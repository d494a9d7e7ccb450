"""What tests do to a register outside accessgov, and read back from its log."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accessgov.db.register import DatabaseUrl
from accessgov.operation import Operation
from accessgov.workspace import Workspace
from tests.support.shell import Shell

ON_POSTGRESQL = os.environ.get("ACCESSGOV_TEST_ENGINE", "sqlite") == "postgresql"


def file_only(why: str) -> pytest.MarkDecorator:
    """A test of what only a register kept in a file has (its bytes, its mode, a copy of
    it): skipped when the suite runs its registers on PostgreSQL, saying what stands for it
    there."""
    return pytest.mark.skipif(ON_POSTGRESQL, reason=f"a register in a file only: {why}")


def behind_the_log(db: Path | DatabaseUrl, *statements: str,
                   params: tuple[Any, ...] = ()) -> None:
    """Change the register directly, as an import, an older accessgov or an attacker would
    (with sqlite3 on the file, or psql on the database): `params` go to the statements that
    have `?` in them."""
    if isinstance(db, DatabaseUrl):
        import psycopg

        from accessgov.db.postgres import translate

        with psycopg.connect(db.url, autocommit=True) as pg:
            # The tables' triggers note written rows in these (as accessgov's own session
            # makes them); an attacker at psql makes them too.
            pg.execute("CREATE TEMP TABLE touched (n bigserial PRIMARY KEY, tbl text, pk text, "
                       "how text)")
            pg.execute("CREATE TEMP TABLE counted (tbl text, parent text, how text)")
            for statement in statements:
                pg.execute(translate(statement), params if "?" in statement else ())
        return
    with sqlite3.connect(db) as conn:
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())
    conn.close()


def read_rows(db: Path | DatabaseUrl, sql: str, params: tuple[Any, ...] = ()
              ) -> list[tuple[Any, ...]]:
    """Rows read directly from the register (sqlite3 on the file, or psql on the database),
    as tuples in the table's column order."""
    if isinstance(db, DatabaseUrl):
        import psycopg

        from accessgov.db.postgres import translate

        with psycopg.connect(db.url, autocommit=True) as pg:
            return [tuple(row) for row in pg.execute(translate(sql), params)]
    with sqlite3.connect(db) as conn:
        found = conn.execute(sql, params).fetchall()
    conn.close()
    return found


def read_dicts(db: Path | DatabaseUrl, sql: str, params: tuple[Any, ...] = ()
               ) -> list[dict[str, Any]]:
    """As `read_rows`, each row a dict by column name."""
    if isinstance(db, DatabaseUrl):
        import psycopg
        from psycopg.rows import dict_row

        from accessgov.db.postgres import translate

        with psycopg.connect(db.url, autocommit=True, row_factory=dict_row) as pg:
            return list(pg.execute(translate(sql), params))
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        found = [dict(row) for row in conn.execute(sql, params)]
    conn.close()
    return found


def register_bytes(db: Path | DatabaseUrl) -> bytes:
    """Everything the register holds, as an attacker with a copy reads it: the file and its
    WAL, or a plain pg_dump of the database."""
    if isinstance(db, DatabaseUrl):
        import subprocess

        dump = subprocess.run(["pg_dump", "--no-owner", db.url], capture_output=True,
                              check=True, timeout=60).stdout
        # pg_dump guards its output with a random key of its own each time: not the data.
        return b"\n".join(line for line in dump.split(b"\n")
                          if not line.startswith((b"\\restrict", b"\\unrestrict")))
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def events(sh: Shell, action: str) -> list[dict[str, Any]]:
    """The audit events of one action, as `audit log --format json` gives them."""
    data = json.loads(sh.run(f"audit log --action {action} --format json").stdout)
    assert isinstance(data, list)
    return data


def as_an_older_accessgov(sh: Shell, work: Callable[[Operation], None], *,
                          operator: str | None = None) -> None:
    """Make a change the way an older accessgov did, before a rule that now refuses it: the
    rows and events are sealed as usual (the record is real), but no rule table is asked."""
    workspace = Workspace(sh.db, env={}, backend_factory=sh.backend_factory, clock=sh.clock)
    try:
        workspace.change(work, operator=operator)
    finally:
        workspace.close()


def approved_before_the_proxy_rule(sh: Shell, grant: str, person: str, account: str,
                                   approver: str, authority: str) -> None:
    """A live grant approved by `approver` as accessgov recorded it before the proxy rule."""
    def approve(op: Operation) -> None:
        number = int(grant.removeprefix("G-"))
        op.register.insert("grants", {
            "id": grant, "num": number, "person": person, "account": account, "role": "admin",
            "reason": "before the proxy rule", "requested_by": approver,
            "requested_at": op.at, "status": "active", "decided_at": op.at})
        op.register.insert("approvals", {
            "grant_id": grant, "decision": "approved", "approver": approver,
            "authority": authority, "mfa_verified": 1, "verified_by": "totp code", "at": op.at})
        op.record("grant.request", grant, person=person, account=account, role="admin")
        op.record("grant.approve", grant, person=person, account=account, role="admin",
                  authority=authority)

    as_an_older_accessgov(sh, approve, operator=approver)
