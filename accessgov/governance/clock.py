"""The way out for a clock that was wrong: an approver's audited acknowledgement.

Once events were dated by a clock set ahead, every change dated by the corrected clock is
"before the log's last event" and refused (accessgov.audit.timeline). The CEO or a trustee,
with MFA and the board minute that looked into it, records that the log's time steps back
to now; the changes after it go on from there. Nothing else may date an event before the
one before it, and `audit verify` lists every acknowledgement with its approver and minute,
so time is never moved back silently.
"""

from __future__ import annotations

from typing import Any

from accessgov.audit import timeline
from accessgov.common import validate
from accessgov.errors import InputError
from accessgov.identity.authority import authorise
from accessgov.operation import Operation


def acknowledge(op: Operation, board_minute: str) -> dict[str, Any]:
    """Record that the log's time steps back from its last event to now (the CEO or a
    trustee, with MFA); refused when this computer's clock is not behind the log."""
    minute = validate.text(board_minute, "board minute")
    log_time = timeline.log_time(op)
    if log_time is None or op.at >= log_time:
        raise InputError(f"this computer's clock ({op.at}) is not behind the audit log's last "
                         f"event ({log_time}): there is nothing to acknowledge")
    subject = op.register.setting("org_slug") or "register"
    authority = authorise(op, "clock.acknowledge", subject, board_minute=minute)
    op.record(timeline.ACKNOWLEDGED, subject, board_minute=minute, log_time=log_time,
              clock=op.at, authority=str(authority))
    return {"log_time": log_time, "clock": op.at, "board_minute": minute}
