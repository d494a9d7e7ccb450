"""What an import checks its rows against, and what it finds.

`World` is the register's people, accounts, delegations and grants as the checks need them,
read in a few queries and kept up to date as rows are accepted (a row may name a person added
by an earlier row of the same file). `ImportContext` is who imports, when, and with which board
minute. A `Problem` is one bad row; an `Accepted` row is stored as it stands.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from accessgov.common.timeutil import iso
from accessgov.db.queries import transfer
from accessgov.db.register import Register, Row
from accessgov.transfer.exporting import account_record, delegation_record, person_record


@dataclasses.dataclass(frozen=True)
class Problem:
    """One bad row: where, which column, why; `refusal` when it is about authority."""

    kind: str
    row: int
    column: str | None
    reason: str
    refusal: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (schemas/import.schema.json)."""
        return {"kind": self.kind, "row": self.row, "column": self.column,
                "reason": self.reason}


@dataclasses.dataclass(frozen=True)
class Accepted:
    """A row that passed every check, as it will be stored."""

    record: dict[str, Any]
    unchanged: bool = False
    changed: tuple[str, ...] = ()  # `--update`: the columns of a record already present


@dataclasses.dataclass
class World:
    """The records rows are checked against: the register's, plus the rows accepted so far."""

    register: Register
    people: dict[str, Row]
    accounts: dict[str, Row]
    delegations: dict[str, Row]
    grant_ids: set[str]
    grant_nums: set[int]
    live: dict[tuple[str, str], str]  # (person, account) -> the active or pending grant
    shared_passwords: dict[str, int]  # shared-login account -> its password's version

    @classmethod
    def load(cls, register: Register) -> World:
        """Everything an import is checked against, in a few queries."""
        people = {row["id"]: person_record(row) for row in transfer.people(register)}
        accounts = {row["id"]: account_record(row) for row in transfer.accounts(register)}
        delegations = {row["id"]: row for row in _delegations(register)}
        ids, nums, live = set(), set(), {}
        for grant_id, num, person, account, status in transfer.grant_keys(register):
            ids.add(grant_id)
            nums.add(num)
            if status in ("active", "pending"):
                live[(person, account)] = grant_id
        shared = transfer.shared_password_versions(register)
        return cls(register, people, accounts, delegations, ids, nums, live, shared)


def _delegations(register: Register) -> list[Row]:
    scopes = transfer.delegation_scopes(register)
    return [delegation_record(row, scopes.get(row["id"], [])) | {"num": row["num"]}
            for row in transfer.delegations(register)]


@dataclasses.dataclass(frozen=True)
class ImportContext:
    """Who imports, when, and with which board minute."""

    operator: Row | None  # None in a dry run when nobody is named: rules about them skipped
    board_minute: str | None
    now: dt.datetime
    # Who put the operator in place (accessgov.identity.authority.placers): the proxy rule.
    placed: Mapping[str, str] = dataclasses.field(default_factory=dict)
    update: bool = False  # `--update`: people already present take the file's details

    @property
    def at(self) -> str:
        """Now, as stored."""
        return iso(self.now)

    @property
    def today(self) -> str:
        """Today's date (UTC)."""
        return self.now.date().isoformat()
