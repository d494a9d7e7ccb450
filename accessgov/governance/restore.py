"""Putting the register back from a backup: an approver's audited act.

A register put back from a copy is refused by every change (accessgov.audit.head): its log
is behind the chain head the secret store records. A deliberate restore is the one change
that builds on such a register: the CEO or a trustee, with MFA and the board minute that
decided it, records a `register.restore` event naming what the store's record said before
(the newest event it knew and who wrote it), and the change moves the record to the restored
register's head. Events the backup does not hold stay named in that event, so a restore
never hides how far back it went.
"""

from __future__ import annotations

from typing import Any

from accessgov.audit.head import ADOPTED
from accessgov.common import validate
from accessgov.identity.authority import authorise
from accessgov.operation import Operation

RESTORED = "register.restore"


def record_restore(op: Operation, board_minute: str, source: str,
                   backup_sha256: str | None) -> dict[str, Any]:
    """Record that the register was put back (the CEO or a trustee, with MFA): from which
    backup, over which recorded head, and how many events the restored log is missing."""
    minute = validate.text(board_minute, "board minute")
    subject = op.register.setting("org_slug") or "register"
    authority = authorise(op, "register.restore", subject, board_minute=minute)
    before: dict[str, Any] = op.facts.get(ADOPTED) or {}  # type: ignore[assignment]
    restored_head = int(before.get("restored_head") or 0)
    recorded = int(before.get("sequence") or 0)
    details: dict[str, Any] = {
        "board_minute": minute, "source": source, "authority": str(authority),
        "restored_head": restored_head, "store_head_before": recorded,
        "store_head_actor": before.get("actor") or "",
        "store_version_before": int(before.get("version") or 0),
        "events_not_restored": max(0, recorded - restored_head),
    }
    if backup_sha256:
        details["backup_sha256"] = backup_sha256
    op.record(RESTORED, subject, **details)
    return details
