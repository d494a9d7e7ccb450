"""What tests do to a register outside accessgov, and read back from its log."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from accessgov.db.register import DatabaseUrl
from accessgov.operation import Operation
from accessgov.workspace import Workspace
from tests.support.shell import Shell


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
