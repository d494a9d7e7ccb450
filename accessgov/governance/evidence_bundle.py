"""The evidence pack as an auditor's bundle (`review export Q --format bundle -o DIR`) and its
check (`accessgov verify-pack DIR`).

A bundle is one folder: the pack in CSV, JSON, Markdown and HTML, all drawn from one build
of it (same findings, same moment), and `manifest.json` with the SHA-256 and size of each.
Anyone can recompute hashes, so the manifest's own SHA-256 goes into the audit log, in a
`review.export` event sealed like every other: a file changed afterwards, and a manifest
re-hashed to match, no longer match an event of the register's chain.

`verify-pack` checks a bundle against the register it came from: every file against the
manifest (and nothing unlisted), the manifest against its sealed event, and the pack's
review, snapshot, audit head and items against the register's own.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from accessgov.db.queries import events
from accessgov.db.register import Register
from accessgov.errors import InputError
from accessgov.governance import review
from accessgov.governance.evidence import Pack
from accessgov.identity.authority import authorise
from accessgov.operation import Operation

MANIFEST = "manifest.json"
EXPORTED = "review.export"
# The columns that name an item; what was decided about it may change while a review is open.
IDENTITY = ("item", "grant_id", "account", "person", "role")
DECISION = ("decision", "decided_by", "decided_at")


@dataclasses.dataclass(frozen=True)
class Bundle:
    """The files of a bundle (name -> bytes) and its manifest."""

    files: dict[str, bytes]
    manifest: dict[str, Any]

    @property
    def manifest_bytes(self) -> bytes:
        return (json.dumps(self.manifest, indent=2, ensure_ascii=False) + "\n").encode()

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()


def build(pack: Pack, drawings: Mapping[str, str]) -> Bundle:
    """The bundle of `pack`, from its drawings (format -> text)."""
    quarter = pack.campaign["id"]
    files = {f"review-{quarter}.{fmt}": text.encode() for fmt, text in drawings.items()}
    population = pack.header()["population"]
    manifest = {
        "kind": "accessgov review evidence bundle",
        "organisation": pack.register.setting("org") or "",
        "review": quarter,
        "campaign_status": pack.campaign["status"],
        "generated_at": pack.generated_at,
        "produced_by": population["produced_by"],
        "accessgov_version": population["accessgov_version"],
        "snapshot_sha256": pack.campaign["snapshot_sha256"],
        "audit_head": population["audit_head"],
        "files": [{"name": name, "sha256": hashlib.sha256(data).hexdigest(),
                   "bytes": len(data)} for name, data in files.items()],
    }
    return Bundle(files, manifest)


def write(bundle: Bundle, folder: Path) -> None:
    """Write the bundle into a new private folder (0700, files 0600); refuse one that exists
    (a bundle is never mixed with other files)."""
    if os.path.lexists(folder):
        raise InputError(f"{folder} already exists: give a new folder for the bundle")
    try:
        folder.mkdir(mode=0o700)
        for name, data in [*bundle.files.items(), (MANIFEST, bundle.manifest_bytes)]:
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
    except OSError as error:
        remove(folder)
        raise InputError(f"cannot write the bundle in {folder}: "
                         f"{error.strerror or 'it could not be written'}") from None


def remove(folder: Path) -> None:
    """Take a bundle this command wrote away again (its change did not commit)."""
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink(missing_ok=True)
        folder.rmdir()


def record(op: Operation, bundle: Bundle) -> None:
    """Put the bundle's manifest on the record (the CEO or a trustee)."""
    quarter = bundle.manifest["review"]
    authorise(op, EXPORTED, quarter)
    op.record(EXPORTED, quarter, format="bundle", manifest_sha256=bundle.manifest_sha256,
              files=[entry["name"] for entry in bundle.manifest["files"]])


# -- verify-pack ------------------------------------------------------------------------------

@dataclasses.dataclass
class Verdict:
    """What verify-pack found: the review, the event that recorded the bundle, problems."""

    review: str = ""
    recorded_by: str = ""
    recorded_at: str = ""
    problems: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


def verify(register: Register, folder: Path, holds: Callable[[Mapping[str, Any]], bool],
           today: str) -> Verdict:
    """Check the bundle in `folder` against itself and against `register`; `holds` says
    whether an event's seal is the register's own."""
    verdict = Verdict()
    manifest_bytes, manifest = _manifest(folder)
    files = _files(folder, manifest, verdict)
    verdict.review = quarter = str(manifest.get("review") or "")
    _recorded(register, quarter, hashlib.sha256(manifest_bytes).hexdigest(), holds, verdict)
    try:
        campaign = review.get_campaign(register, quarter)
    except Exception as error:  # NotFound, or a malformed quarter: say so, stop here
        verdict.problems.append(f"the register has no review {quarter!r} ({error})")
        return verdict
    if manifest.get("snapshot_sha256") != campaign["snapshot_sha256"]:
        verdict.problems.append("the manifest's snapshot SHA-256 is not the review's own")
    head = manifest.get("audit_head") or {}
    if not head or not events.holds(register, int(head.get("seq") or 0), str(head.get("mac"))):
        verdict.problems.append("the audit head the manifest names is not an event of this "
                                "register's log")
    pack = _json(files.get(f"review-{quarter}.json"), verdict)
    if pack is not None:
        _items(register, quarter, today, pack, manifest, verdict)
        _csv(files.get(f"review-{quarter}.csv"), pack, verdict)
    return verdict


def _manifest(folder: Path) -> tuple[bytes, dict[str, Any]]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder (give the folder 'review export --format "
                         "bundle -o DIR' wrote)")
    try:
        raw = _read(path)
        manifest = json.loads(raw)
    except (OSError, ValueError):
        raise InputError(f"{path} is missing or is not the JSON accessgov wrote: this is not "
                         "an evidence bundle, or it was damaged") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise InputError(f"{path} is not an evidence bundle's manifest")
    return raw, manifest


def _read(path: Path) -> bytes:
    """A regular file's bytes; never through a symbolic link."""
    if path.is_symlink() or not stat.S_ISREG(path.lstat().st_mode):
        raise OSError(f"{path} is not a regular file")
    return path.read_bytes()


def _files(folder: Path, manifest: dict[str, Any], verdict: Verdict) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    listed = set()
    for entry in manifest["files"]:
        name = str(entry.get("name", "")) if isinstance(entry, dict) else ""
        if not name or "/" in name or name.startswith("."):
            verdict.problems.append(f"the manifest lists a file outside the bundle: {name!r}")
            continue
        listed.add(name)
        try:
            data = _read(folder / name)
        except OSError:
            verdict.problems.append(f"{name} is missing (or is not a regular file)")
            continue
        if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            verdict.problems.append(f"{name} was changed since the bundle was made (its "
                                    "SHA-256 is not the manifest's)")
            continue
        found[name] = data
    for extra in sorted({path.name for path in folder.iterdir()} - listed - {MANIFEST}):
        verdict.problems.append(f"{extra} is in the folder but not in the manifest")
    return found


def _recorded(register: Register, quarter: str, digest: str,
              holds: Callable[[Mapping[str, Any]], bool], verdict: Verdict) -> None:
    for event in events.of_action(register, EXPORTED, quarter):
        details = json.loads(event["details"])
        if details.get("manifest_sha256") != digest:
            continue
        if not holds(event):
            verdict.problems.append(f"the event that records this bundle (event "
                                    f"{event['seq']}) is not sealed by this register")
            return
        verdict.recorded_by, verdict.recorded_at = event["actor"], event["at"]
        return
    verdict.problems.append("the manifest is not the one recorded when the bundle was made (no "
                            "'review.export' event in the audit log has its SHA-256): it, or "
                            "a file with it, was changed afterwards, or it comes from another "
                            "register")


def _json(data: bytes | None, verdict: Verdict) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        pack = json.loads(data)
    except ValueError:
        verdict.problems.append("the JSON pack is not JSON")
        return None
    return pack if isinstance(pack, dict) else None


def _items(register: Register, quarter: str, today: str, pack: dict[str, Any],
           manifest: dict[str, Any], verdict: Verdict) -> None:
    """The pack's items against the review's: the same items always; the same decisions
    when the review was closed when the pack was made (an open one goes on)."""
    columns = review.ITEM_COLUMNS
    theirs = {int(item["item"]): item for item in pack.get("items", [])}
    closed = manifest.get("campaign_status") == "closed"
    changed = 0
    for values in review.item_rows(register, quarter, today):
        ours = dict(zip(columns, values, strict=True))
        item = theirs.pop(int(ours["item"]), None)
        if item is None:
            verdict.problems.append(f"item {ours['item']} of the review is missing from the "
                                    "pack")
            continue
        if any(str(item.get(name)) != str(ours[name]) for name in IDENTITY):
            verdict.problems.append(f"item {ours['item']} in the pack is not the review's "
                                    f"({ours['grant_id']}, {ours['person']} on "
                                    f"{ours['account']})")
        elif any(str(item.get(name)) != str(ours[name]) for name in DECISION):
            if closed:
                verdict.problems.append(f"item {ours['item']}'s decision in the pack is not "
                                        "the one recorded")
            else:
                changed += 1
    for number in sorted(theirs):
        verdict.problems.append(f"item {number} in the pack is not an item of the review")
    if changed:
        verdict.notes.append(f"{changed} item(s) were decided since the pack was made (the "
                             "review was still open then)")


def _csv(data: bytes | None, pack: dict[str, Any], verdict: Verdict) -> None:
    """The CSV's rows are the JSON's items (the same pack in two formats)."""
    if data is None:
        return
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    items = pack.get("items", [])
    same = len(rows) == len(items) and all(
        all(str(row.get(name, "")) == str(item.get(name) if item.get(name) is not None else "")
            for name in IDENTITY + DECISION)
        for row, item in zip(rows, items, strict=False))
    if not same:
        verdict.problems.append("the CSV and the JSON pack do not hold the same items")
