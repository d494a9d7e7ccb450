"""What tests do to a register outside accessgov, and read back from its log."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.support.shell import Shell


def behind_the_log(db: Path, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Change the register file directly, as an import, an older accessgov or an attacker
    would (with sqlite3 on the file): `params` go to the statements that have `?` in them."""
    with sqlite3.connect(db) as conn:
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())
    conn.close()


def events(sh: Shell, action: str) -> list[dict[str, Any]]:
    """The audit events of one action, as `audit log --format json` gives them."""
    data = json.loads(sh.run(f"audit log --action {action} --format json").stdout)
    assert isinstance(data, list)
    return data
