"""`audit verify` and anchors: the results of checking the chain, the records against it,
the register against the chain head the secret store records, and the events' times."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessgov.audit import chain, parallel, state
from accessgov.db import seals
from accessgov.db.queries import events
from accessgov.db.register import Register
from accessgov.errors import InputError, RegisterBusy

if TYPE_CHECKING:  # `audit head` reads `current_head` from here: keep it light
    from accessgov.audit import timeline
    from accessgov.audit.head import HeadRecord


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """The verdict on one register's chain."""

    org: str
    verdict: chain.Verdict
    anchored: bool
    findings: tuple[state.UnexplainedRow, ...] = ()
    rows_checked: int = 0
    rolled_back: str | None = None  # why the register is behind the store's chain head
    times: tuple[timeline.TimeFinding, ...] = ()  # events out of time order, acknowledged too

    @property
    def time_findings(self) -> list[timeline.TimeFinding]:
        """Events out of time order that nobody acknowledged."""
        return [found for found in self.times if not found.acknowledged]

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return (self.verdict.ok and not self.findings and self.rolled_back is None
                and not self.time_findings)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (schemas/audit-verify.schema.json)."""
        head = self.verdict.head
        return {
            "ok": self.ok, "org": self.org, "events_checked": self.verdict.events,
            "head_seq": head.seq if head and self.verdict.ok else None,
            "head_mac": head.mac if head and self.verdict.ok else None,
            "anchored": self.anchored, "bad_seq": self.verdict.bad_seq,
            "problem": self.verdict.problem, "rows_checked": self.rows_checked,
            "state_findings": [finding.as_dict() for finding in self.findings],
            "rolled_back": self.rolled_back,
            "time_findings": [found.as_dict() for found in self.time_findings],
            "clock_acknowledged": [found.as_dict() for found in self.times
                                   if found.acknowledged],
        }

    def sentence(self) -> str:
        """The verdict for people, one finding per line."""
        notes = [f"Note: {found.problem}." for found in self.times if found.acknowledged]
        if self.ok:
            anchored = " and the anchored head is still in place" if self.anchored else ""
            return "\n".join([
                f"The audit log of {self.org} is intact: {self.verdict.events} events "
                f"checked{anchored}, and all {self.rows_checked} records match it.", *notes])
        if not self.verdict.ok:
            return (f"The audit log of {self.org} has been tampered with: event "
                    f"{self.verdict.bad_seq} fails because {self.verdict.problem}. "
                    f"{self.verdict.events} events before it check out.")
        lines = []
        if self.rolled_back:
            lines.append(f"The audit log of {self.org} checks out, but {self.rolled_back}.")
        if self.findings:
            lines.append(f"The register of {self.org} was changed behind its audit log: "
                         f"{len(self.findings)} record(s) are not explained by it.")
            lines += [f"- {f.table} {f.row}: {f.problem}" for f in self.findings]
        if self.time_findings:
            lines.append(f"The audit log of {self.org} has {len(self.time_findings)} event(s) "
                         "out of time order:")
            lines += [f"- {found.problem}" for found in self.time_findings]
        return "\n".join(lines + notes)


def verify_register(register: Register, trust: seals.Trust, anchor_file: str | None, *,
                    now: dt.datetime | None = None,
                    head_record: HeadRecord | None = None,
                    proven: chain.Proven | None = None) -> VerifyReport:
    """Check the whole chain (against an anchor if one is given), then every sealed record
    against what the chain says it should be; the register against the chain head that
    `head_record` keeps, and the events' times against each other and `now`, when given.
    Signatures up to a head `proven` before are not checked again while the log still
    holds them (see accessgov.audit.proven)."""
    anchor = read_anchor(Path(anchor_file)) if anchor_file else None
    background = parallel.check_in_background(register, trust.rows)
    verdict = chain.verify(register, trust.events, anchor, proven)  # type: ignore[arg-type]
    decisions = state.decisions_in_another_name(register) \
        if background and trust.rows.listed and verdict.ok else []
    result = background() if background else None
    org = register.setting("org") or ""
    if verdict.events == 0 and verdict.ok:
        verdict = chain.Verdict(0, None, bad_seq=1,
                                problem="the log is empty (its events were deleted)")
    elif verdict.ok and events.first_action(register) != "register.init":
        verdict = chain.Verdict(verdict.events, verdict.head, bad_seq=1,
                                problem="the log does not start with the register's init event")
    if not verdict.ok:
        return VerifyReport(org, verdict, anchor is not None)
    head = (verdict.head.seq, verdict.head.mac) if verdict.head else None
    if result is None or result.head != head:  # small log, or a change landed in between
        result = state.check_snapshot(register, trust.rows)
        decisions = []  # checked with the rest
        if result.head != head:
            raise RegisterBusy("the register changed while it was being checked; run "
                               "'accessgov audit verify' again")
    from accessgov.audit import head as chain_head
    from accessgov.audit import timeline

    rolled_back = None
    if head_record is not None:
        rolled_back = chain_head.problem(register, head_record.read(), head_record.where())
    times = tuple(timeline.findings(register, now)) if now is not None else ()
    return VerifyReport(org, verdict, anchor is not None, (*result.findings, *decisions),
                        result.rows_checked, rolled_back, times)


def current_head(register: Register) -> dict[str, Any]:
    """The last event's seq and mac: proof of how long the log was at this moment."""
    last = events.head(register)
    if last is None:
        raise InputError("the audit log is empty")
    return {"org_slug": register.setting("org_slug"), "seq": last["seq"], "at": last["at"],
            "mac": last["mac"]}


def read_anchor(path: Path) -> chain.Head:
    """An anchor file written by `audit head`: a whole positive seq and a text mac."""
    problem = InputError(f"{path} is not an audit anchor written by 'accessgov audit head'")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        seq, mac = data["seq"], data["mac"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        raise problem from None
    # JSON numbers may be 1.5 or 1e400 (infinity) and True is an int to Python: only a whole
    # number that SQLite can hold is a seq.
    if type(seq) is not int or not 0 < seq < 2**63 or not isinstance(mac, str):
        raise problem
    return chain.Head(seq, mac)
