"""`audit verify` and anchors: the results of checking the chain, ready to print."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from accessgov.audit import chain as audit
from accessgov.errors import InputError
from accessgov.reports import output
from accessgov.workspace import Workspace


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """The verdict on one register's chain."""

    org: str
    verdict: audit.Verdict
    anchored: bool

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return self.verdict.ok

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (schemas/audit-verify.schema.json)."""
        head = self.verdict.head
        return {
            "ok": self.ok, "org": self.org, "events_checked": self.verdict.events,
            "head_seq": head.seq if head and self.ok else None,
            "head_mac": head.mac if head and self.ok else None,
            "anchored": self.anchored, "bad_seq": self.verdict.bad_seq,
            "problem": self.verdict.problem,
        }

    def render(self, fmt: str) -> str:
        """A sentence for people, or JSON / CSV for tools."""
        if fmt == "json":
            return output.as_json(self.as_dict())
        if fmt == "csv":
            data = self.as_dict()
            return output.as_csv([data], list(data))
        if self.ok:
            anchored = " and the anchored head is still in place" if self.anchored else ""
            return (f"The audit log of {self.org} is intact: {self.verdict.events} events "
                    f"checked{anchored}.\n")
        return (f"The audit log of {self.org} has been tampered with: event "
                f"{self.verdict.bad_seq} fails because {self.verdict.problem}. "
                f"{self.verdict.events} events before it check out.\n")


def verify_register(workspace: Workspace, anchor_file: str | None) -> VerifyReport:
    """Check the whole chain, against an anchor if one is given."""
    anchor = read_anchor(Path(anchor_file)) if anchor_file else None
    register = workspace.register
    verdict = audit.verify(register, workspace.audit_key, anchor)
    return VerifyReport(register.setting("org") or "", verdict, anchor is not None)


def current_head(workspace: Workspace) -> dict[str, Any]:
    """The last event's seq and mac: proof of how long the log was at this moment."""
    register = workspace.register
    last = register.row("SELECT seq, at, mac FROM audit ORDER BY seq DESC LIMIT 1")
    if last is None:
        raise InputError("the audit log is empty")
    return {"org_slug": register.setting("org_slug"), "seq": last["seq"], "at": last["at"],
            "mac": last["mac"]}


def read_anchor(path: Path) -> audit.Head:
    """An anchor file written by `audit head`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return audit.Head(int(data["seq"]), str(data["mac"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{path} is not an audit anchor written by 'accessgov audit head'") \
            from None
