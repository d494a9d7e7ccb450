"""`audit verify` and anchors: the results of checking the chain."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from accessgov.audit import chain
from accessgov.db.register import Register
from accessgov.errors import InputError


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """The verdict on one register's chain."""

    org: str
    verdict: chain.Verdict
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

    def sentence(self) -> str:
        """The verdict for people."""
        if self.ok:
            anchored = " and the anchored head is still in place" if self.anchored else ""
            return (f"The audit log of {self.org} is intact: {self.verdict.events} events "
                    f"checked{anchored}.")
        return (f"The audit log of {self.org} has been tampered with: event "
                f"{self.verdict.bad_seq} fails because {self.verdict.problem}. "
                f"{self.verdict.events} events before it check out.")


def verify_register(register: Register, key: bytes, anchor_file: str | None) -> VerifyReport:
    """Check the whole chain, against an anchor if one is given."""
    anchor = read_anchor(Path(anchor_file)) if anchor_file else None
    verdict = chain.verify(register, key, anchor)
    return VerifyReport(register.setting("org") or "", verdict, anchor is not None)


def current_head(register: Register) -> dict[str, Any]:
    """The last event's seq and mac: proof of how long the log was at this moment."""
    last = register.row("SELECT seq, at, mac FROM audit ORDER BY seq DESC LIMIT 1")
    if last is None:
        raise InputError("the audit log is empty")
    return {"org_slug": register.setting("org_slug"), "seq": last["seq"], "at": last["at"],
            "mac": last["mac"]}


def read_anchor(path: Path) -> chain.Head:
    """An anchor file written by `audit head`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return chain.Head(int(data["seq"]), str(data["mac"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{path} is not an audit anchor written by 'accessgov audit head'") \
            from None
