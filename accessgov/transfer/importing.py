"""`accessgov import`: people, accounts, delegations and grants from the charity's spreadsheet.

All rows or none: the import is one change (one transaction), and any bad row leaves the
register as it was. Every bad row is reported with its row number, column and reason (the
first PROBLEM_LIMIT of them, then how many more). Each row is checked first against its
schema (schemas/import-<kind>.schema.json), then against the register and the same rules the
commands that add records one by one obey, so an import can do nothing those commands could
not:

- the import itself needs the CEO or a trustee, with MFA (rule register.import);
- a new trustee or CEO needs --board-minute, and there is only one active CEO;
- nobody imports an account they would own, oversee or recover themselves, nor access for
  themselves; only the CEO imports delegations, never one to themselves;
- an imported grant is approved on the importer's own authority, with their MFA: the approval
  record names the importer (as CEO or trustee), never the person the file names, so nobody
  can credit a decision to someone else. A live grant is imported under the rules of
  `grant add`: never the importer's own, never one for someone who put the importer in place
  (the proxy rule), one live grant per person and account, nobody who has left. What the file
  says of the decision (decided_by, authority, decided_at, board_minute) is kept as a claim
  (approval_claims), shown as "recorded as approved by X on D (imported by Y)" wherever the
  approval is, and `check` (ACC-007) lists live grants whose claim names someone other than
  the importer until that person confirms it (`grant confirm`) or has left. The claim itself
  is checked as before: a person in the register, never the grantee, who had not left by
  then, the CEO or a trustee or a delegate whose delegation covered the account that day;
- a row whose id is already in the register with the same values is left unchanged (so an
  import can be run again); with other values it is a problem (change it with the command),
  except that with `--update` a person's name, email, title, manager and start date take the
  file's values (a `person.update` event each; category and leaving have their commands).

Records of the past import as they were: people who have left (status left), archived
accounts, revoked, declined and expired grants, revoked delegations, and an account whose
owner or overseer has since left (`check` reports it). Grants and delegations keep the ids
a file gives them (G-0001, D-0001: an export round-trips); rows without one get the next
numbers after every number in the register and in the file.

Each imported row has its own audit event (`person.import`, `account.import`,
`delegation.import`, `grant.import`, subject its id), and a `register.import` event names the
file, its SHA-256 and the counts. `--dry-run` runs the same code on the register as it is
(reading, limits, schema, every rule above) and writes nothing; it asks for no code, so
whether the operator may import at all is checked by the import alone.

A file is read once and refused whole, before any row is checked, when it is beyond a limit
of accessgov.transfer.limits: 256 MB, 1,000,000 rows, 100 columns, a cell of 10,000
characters, JSON nested more than 32 deep or a number of more than 20 characters. Ids keep
their numbers and have 4 to 9 digits (G-0001 to G-999999999), so no number can overflow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from accessgov.common import validate
from accessgov.db.queries import people
from accessgov.db.register import Register, Row
from accessgov.errors import InputError, Refused
from accessgov.identity.authority import authorise, placed_by, placers
from accessgov.operation import Operation
from accessgov.transfer import reading
from accessgov.transfer.checks import CHECKERS
from accessgov.transfer.world import Accepted, ImportContext, Problem, World
from accessgov.transfer.writing import Writer

__all__ = ["ImportContext", "ImportRefused", "ImportRejected", "Report", "import_file", "plan"]

PROBLEM_LIMIT = 20
CACHE_KIB = 16_384
Progress = Callable[[int], None]


@dataclasses.dataclass
class Report:
    """What an import did, or would do, or why it did nothing."""

    file: str
    format: str
    dry_run: bool
    operator: str | None
    kinds: list[str]
    rows: int = 0
    added: dict[str, int] = dataclasses.field(default_factory=dict)
    unchanged: dict[str, int] = dataclasses.field(default_factory=dict)
    updated: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    problems_total: int = 0
    refused: bool = False
    changes: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add_problem(self, problem: Problem) -> None:
        """Keep the first PROBLEM_LIMIT; count them all."""
        self.problems_total += 1
        self.refused = self.refused or problem.refusal
        if len(self.problems) < PROBLEM_LIMIT:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (schemas/import.schema.json)."""
        return {
            "file": self.file, "format": self.format, "dry_run": self.dry_run,
            "operator": self.operator, "kinds": self.kinds, "rows": self.rows,
            "added": {kind: self.added.get(kind, 0) for kind in self.kinds},
            "unchanged": {kind: self.unchanged.get(kind, 0) for kind in self.kinds},
            "updated": {kind: self.updated.get(kind, 0) for kind in self.kinds},
            "problems": [problem.as_dict() for problem in self.problems],
            "problems_total": self.problems_total,
            "more_problems": self.problems_total - len(self.problems),
            "changes": self.changes,
        }

    def failure(self) -> ImportRejected | ImportRefused:
        """The error that stops the import, carrying this report."""
        more = (f" (the first {len(self.problems)} are listed)"
                if self.problems_total > len(self.problems) else " (listed above)")
        count = f"{self.problems_total} problem{'s' if self.problems_total != 1 else ''}"
        if self.refused:
            return ImportRefused(f"{count} in {self.file}{more}, some of them beyond what "
                                 f"{self.operator} may do; nothing was imported", self)
        return ImportRejected(f"{count} in {self.file}{more}; nothing was imported", self)


class ImportRejected(InputError):
    """The file has bad rows (exit 2); `report` lists them."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


class ImportRefused(Refused):
    """Some rows are beyond the operator's authority (exit 3); `report` lists them."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


# -- running an import ----------------------------------------------------------------------------

def plan(register: Register, path: Path, kind: str | None, operator_id: str | None,
         board_minute: str | None, now: dt.datetime, progress: Progress | None = None,
         date_format: str = reading.DAY_FIRST, update: bool = False) -> Report:
    """`--dry-run`: the import's own checks (`_prepare` and `_check`, the same code) on the
    register as it is; write nothing. Rules about the importer are checked when the operator
    is named; whether they may import at all, with their MFA, only by the import itself."""
    operator = people.get(register, operator_id) if operator_id else None
    placed = placers(register, operator_id) if operator_id else {}
    source, context = _prepare(path, kind, operator, board_minute, now, placed, date_format,
                               update)
    return _check(source, World.load(register), context, None, progress)


def import_file(op: Operation, path: Path, kind: str | None, *,
                board_minute: str | None = None, progress: Progress | None = None,
                date_format: str = reading.DAY_FIRST, update: bool = False) -> Report:
    """Import the file in this change: every row, or (raising) none."""
    org = op.register.setting("org_slug") or "register"
    authorise(op, "register.import", org)
    source, context = _prepare(path, kind, op.operator, board_minute, op.now,
                               placed_by(op, op.operator["id"]), date_format, update)
    # Managers may be named later in the file; 100,000 rows go into several indexes each, so
    # a page cache of 2 MB (SQLite's default) would write and re-read the same pages all the
    # time (pages are taken only as used).
    op.register.prepare_bulk_writes(CACHE_KIB)
    world = World.load(op.register)
    report = _check(source, world, context, Writer(op, world, context.board_minute), progress)
    op.record("register.import", org, file=source.name, format=source.format,
              sha256=source.sha256, kinds=report.kinds, rows=report.rows, added=report.added,
              unchanged=report.unchanged, board_minute=context.board_minute)
    return report


def _prepare(path: Path, kind: str | None, operator: Row | None, board_minute: str | None,
             now: dt.datetime, placed: Mapping[str, str], date_format: str,
             update: bool) -> tuple[reading.Source, ImportContext]:
    """What a dry run and an import both start from: the file read once and checked for its
    form and size (accessgov.transfer.limits), and the board minute checked."""
    source = reading.read(path, kind, date_format)
    minute = validate.text(board_minute, "board minute") if board_minute else None
    return source, ImportContext(operator, minute, now, placed, update)


def _check(source: reading.Source, world: World, context: ImportContext,
           writer: Writer | None, progress: Progress | None) -> Report:
    """Every row through its kind's checks, written by `writer` (none in a dry run) while no
    row has a problem; raises with the report if any row has one."""
    operator = context.operator["id"] if context.operator else None
    report = Report(source.name, source.format, writer is None, operator,
                    [section.kind for section in source.sections])
    for section in source.sections:
        checker = CHECKERS[section.kind](world, context, section)
        for column, reason in section.header_problems:
            report.add_problem(Problem(section.kind, 1, column, reason))
        if section.header_problems:
            continue
        for number, record, note in section.rows():
            report.rows += 1
            accepted = checker.check(number, record, note)
            if isinstance(accepted, list):
                for problem in accepted:
                    report.add_problem(problem)
            else:
                _accept(section.kind, number, accepted, report, writer)
            if progress is not None:
                progress(1)
        for problem in checker.finish():
            report.add_problem(problem)
        if writer is not None and not report.problems_total:
            writer.flush()
    if report.problems_total:
        raise report.failure()
    return report


def _accept(kind: str, number: int, accepted: Accepted, report: Report,
            writer: Writer | None) -> None:
    counts = report.updated if accepted.changed else \
        report.unchanged if accepted.unchanged else report.added
    counts[kind] = counts.get(kind, 0) + 1
    action = "update" if accepted.changed else "unchanged" if accepted.unchanged else "add"
    if report.dry_run:
        report.changes.append({"kind": kind, "row": number, "id": accepted.record["id"],
                               "action": action})
    elif writer is not None and not accepted.unchanged and not report.problems_total:
        if accepted.changed:
            writer.update(kind, number, accepted.record, accepted.changed)
        else:
            writer.write(kind, number, accepted.record)
