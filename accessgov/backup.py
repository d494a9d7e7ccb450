"""Backups of the register, their check, and putting one back.

`accessgov backup -o FILE` writes a consistent copy of an SQLite register with SQLite's
online backup API (changes may go on meanwhile), and beside it `FILE.manifest.json`: the
organisation, the chain head (newest event and its mac), the number of rows in each table and
the copy's SHA-256. Both are private (0600): the copy is the whole register.

`accessgov backup verify FILE` checks a backup against its manifest and checks the copy's
audit chain and every sealed record with the same trust as `audit verify` (the audit key, or
the operators' signatures in OpenBao); it says how far the copy is behind the chain head the
secret store records. Without FILE it checks the register in place: a PostgreSQL database
restored from `pg_dump`.

`accessgov restore FILE` puts a verified backup in place of an SQLite register, keeping the
register it replaces beside it, and records the restore as an approver's act
(accessgov.governance.restore), which moves the store's record of the chain head. Should the
act be refused (a wrong code, no authority), the register that was there is put back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from accessgov import __version__
from accessgov.audit.verification import VerifyReport, verify_register
from accessgov.common.timeutil import iso
from accessgov.db.queries import census, events
from accessgov.db.register import DatabaseUrl, Location, Register
from accessgov.errors import AccessGovError, InputError
from accessgov.operation import Operation
from accessgov.reports.files import write_private
from accessgov.workspace import Workspace

MANIFEST_SUFFIX = ".manifest.json"
_SIDE_FILES = ("-wal", "-shm")


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What a backup holds, written beside it."""

    org: str
    org_slug: str
    taken_at: str
    accessgov_version: str
    schema_version: int
    head_seq: int
    head_mac: str
    counts: dict[str, int]
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (schemas/backup-manifest.schema.json)."""
        return {"format": "accessgov-backup-1", **dataclasses.asdict(self)}

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest at `path`; InputError if it is missing or not one accessgov wrote."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.pop("format", None) != "accessgov-backup-1":
                raise ValueError("not a backup manifest")
            manifest = cls(**data)
            if not isinstance(manifest.counts, dict) or not isinstance(manifest.head_seq, int):
                raise ValueError("not a backup manifest")
            return manifest
        except FileNotFoundError:
            raise InputError(f"there is no manifest beside the backup ({path}): it is written "
                             "by 'accessgov backup -o FILE' and must be kept with it") from None
        except (OSError, ValueError, TypeError) as error:
            raise InputError(f"the backup's manifest ({path}) is not one accessgov wrote "
                             f"({error})") from None


@dataclasses.dataclass(frozen=True)
class BackupCheck:
    """What `backup verify` found."""

    source: str
    manifest: Manifest | None
    audit: VerifyReport
    problems: tuple[str, ...]
    store_head: int  # the newest event the secret store's record names (0: none)

    @property
    def ok(self) -> bool:
        """True when the backup matches its manifest and its log and records check out."""
        return not self.problems and self.audit.verdict.ok and not self.audit.findings

    @property
    def head_seq(self) -> int:
        """The newest event the backup holds."""
        return self.audit.verdict.events

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (schemas/backup-verify.schema.json)."""
        return {"ok": self.ok, "source": self.source, "head_seq": self.head_seq,
                "store_head_seq": self.store_head, "problems": list(self.problems),
                "events_checked": self.audit.verdict.events,
                "rows_checked": self.audit.rows_checked,
                "manifest": self.manifest.as_dict() if self.manifest else None}

    def sentence(self) -> str:
        """The verdict for people."""
        if not self.ok:
            found = list(self.problems)
            if not self.audit.verdict.ok or self.audit.findings:
                found.append(self.audit.sentence())
            return f"The backup {self.source} cannot be trusted:\n" + "\n".join(
                f"- {line}" for line in found)
        behind = self.store_head - self.head_seq
        where = (f"the secret store's record names event {self.store_head}, {behind} event(s) "
                 "after it: restoring it loses them (the restore names them)"
                 if behind > 0 else "it is as new as the secret store's record of the chain head")
        taken = (f" (taken {self.manifest.taken_at} by accessgov "
                 f"{self.manifest.accessgov_version})" if self.manifest else "")
        return (f"The backup {self.source}{taken} is intact: {self.head_seq} events and "
                f"{self.audit.rows_checked} records check out; {where}.")


def manifest_path(backup: Path) -> Path:
    """Where the manifest of `backup` is kept."""
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def take_backup(workspace: Workspace, target: Path, now: dt.datetime) -> Manifest:
    """Write a consistent copy of the workspace's SQLite register at `target`, then its
    manifest; a target that exists is never overwritten."""
    register = workspace.register
    if isinstance(register.path, DatabaseUrl):
        raise InputError("a register in PostgreSQL is backed up with pg_dump (see 'Several "
                         "administrators' in the README); 'accessgov backup verify' then "
                         "checks a database restored from it")
    for path in (target, manifest_path(target)):
        if os.path.lexists(path):
            raise InputError(f"{path} already exists: a backup never overwrites a file; "
                             "choose another name")
    if target.resolve() == Path(register.path).resolve():
        raise InputError("the backup cannot be written over the register itself")
    partial = target.with_name(f".{target.name}.partial")
    try:
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as error:
        raise InputError(f"cannot write the backup at {target}: {error.strerror}") from None
    os.close(fd)
    try:
        register.backup_to(partial)
        copy = Register.open(partial)
        try:
            manifest = _manifest_of(copy, now, _sha256(partial))
        finally:
            copy.close()
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    write_private(manifest_path(target), json.dumps(manifest.as_dict(), indent=2) + "\n")
    return manifest


def _manifest_of(copy: Register, now: dt.datetime, sha256: str) -> Manifest:
    newest = events.head(copy)
    return Manifest(
        org=copy.setting("org") or "", org_slug=copy.setting("org_slug") or "",
        taken_at=iso(now), accessgov_version=__version__, schema_version=copy.schema_version,
        head_seq=int(newest["seq"]) if newest else 0,
        head_mac=str(newest["mac"]) if newest else "", counts=census.row_counts(copy),
        sha256=sha256)


def check_backup(open_workspace: Callable[[Location], Workspace],
                 backup: Path | None, in_place: Location) -> BackupCheck:
    """Check `backup` against its manifest and its own log, or with no backup the register
    at `in_place` (a database restored by other means), with the trust of the secret store
    its settings name."""
    if backup is None:
        workspace = open_workspace(in_place)
        try:
            return _check(workspace, str(in_place), None, ())
        finally:
            workspace.close()
    if not backup.is_file():
        raise InputError(f"there is no backup at {backup}")
    manifest = Manifest.read(manifest_path(backup))
    problems = []
    digest = _sha256(backup)
    if digest != manifest.sha256:
        problems.append(f"its SHA-256 is {digest}, not the {manifest.sha256} its manifest "
                        "recorded: the file was changed after the backup was taken")
    # The check opens the copy for reading from several connections, which would turn a
    # backup's journal into WAL: it reads a private copy, so the backup stays as it was.
    with tempfile.TemporaryDirectory(dir=backup.parent, prefix=".accessgov-check-") as folder:
        copy = Path(folder) / "register.db"
        shutil.copyfile(backup, copy)
        workspace = open_workspace(copy)
        try:
            problems += _against_manifest(workspace.register, manifest)
            return _check(workspace, str(backup), manifest, tuple(problems))
        finally:
            workspace.close()


def _check(workspace: Workspace, source: str, manifest: Manifest | None,
           problems: tuple[str, ...]) -> BackupCheck:
    report = verify_register(workspace.register, workspace.trust, None)
    stored = workspace.head_record.read()
    return BackupCheck(source, manifest, report, problems,
                       stored.head.sequence if stored.head else 0)


def _against_manifest(register: Register, manifest: Manifest) -> list[str]:
    problems = []
    newest = events.head(register)
    seq, mac = (int(newest["seq"]), str(newest["mac"])) if newest else (0, "")
    if (seq, mac) != (manifest.head_seq, manifest.head_mac):
        problems.append(f"its newest event is {seq}, not the event {manifest.head_seq} its "
                        "manifest recorded")
    counts = census.row_counts(register)
    for table in sorted(set(counts) | set(manifest.counts)):
        if counts.get(table) != manifest.counts.get(table):
            problems.append(f"table {table} holds {counts.get(table, 0)} rows, not the "
                            f"{manifest.counts.get(table, 0)} its manifest recorded")
    return problems


@contextlib.contextmanager
def swapped_in(backup: Path, live: Path, stamp: str,
               release: Callable[[], None]) -> Iterator[Path]:
    """Put the backup at `live`, keeping the register that was there at
    `<live>.replaced-<stamp>` (yielded); should the block fail, `release` lets go of the
    restored register and the one that was there is put back as it was."""
    aside = live.with_name(f"{live.name}.replaced-{stamp}")
    moved = []
    for suffix in ("", *_SIDE_FILES):
        source = Path(f"{live}{suffix}")
        if source.exists():
            os.replace(source, Path(f"{aside}{suffix}"))
            moved.append(suffix)
    try:
        fd = os.open(live, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as target, backup.open("rb") as source_file:
            shutil.copyfileobj(source_file, target)
        yield aside
    except BaseException:
        release()
        for suffix in ("", *_SIDE_FILES):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        for suffix in moved:
            os.replace(Path(f"{aside}{suffix}"), Path(f"{live}{suffix}"))
        raise


def record_refused_restore(workspace: Workspace, operator: str | None,
                           refused: AccessGovError) -> None:
    """Put a refused restore on record in the register that stays (a wrong code counts
    towards the lock-out there too), if that register accepts changes at all."""
    def refuse(op: Operation) -> None:
        op.attempt = ("register.restore", op.register.setting("org_slug") or "register")
        raise refused

    with contextlib.suppress(AccessGovError):
        workspace.change(refuse, operator=operator)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
