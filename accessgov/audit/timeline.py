"""The log's time only moves forward: a change dated before the log's last event is refused,
and `audit verify` names events whose times go backwards or lie in the future.

In keyring mode a change is dated by this computer's clock, which anyone at the computer can
set (`faketime` needs no root). Set back, it would let an expired delegation approve, an
expired session or grant work again, and a scheduled leaver keep their access a little longer.
Each of those is dated before something the log already holds (at the least, the attempt that
was refused once the time had passed), so a change dated before the log's last event is
refused, and not recorded: a record dated back would lower the log's time for the next one.
What this cannot stop is a clock set back to a time the log has not yet passed.

A clock set ahead dates events in the future; once it is corrected, every change is "before
the log's last event". The way out is an approver's audited acknowledgement with a board
minute (`accessgov clock acknowledge`, accessgov.governance.clock): the one event that may be
dated before the one before it, never a silent acceptance. `audit verify` lists it, and
reports any other step back, and any event dated more than two minutes ahead of its own now,
as findings. (How a lock-out from such a clock is capped: accessgov.identity.totp.)

In vault mode the time is the OpenBao server's, and a local clock more than two minutes off is
refused before anything else (accessgov.secrets.openbao.clock); these rules hold there too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from accessgov.common.timeutil import iso, parse_iso
from accessgov.db.queries import events
from accessgov.db.register import Register
from accessgov.errors import Refused
from accessgov.operation import Operation
from accessgov.secrets.base import SecretBackend

ACKNOWLEDGED = "clock.acknowledge"  # the audited step back of the log's time
FUTURE_TOLERANCE = dt.timedelta(minutes=2)  # clocks of two honest computers may differ this much

_LOG_TIME = "log_time"  # in Operation.facts: the log's last event's time, read under the lock


class ClockBehind(Refused):
    """The change would be dated before the audit log's last event."""


def store_time(store: SecretBackend, local: dt.datetime, *,
               check_clock: bool = True) -> dt.datetime:
    """The time of a change: the OpenBao server's when `store` has one (ClockSkew, exit 3, if
    `local` is more than two minutes off it, unless `check_clock` is False), else `local`."""
    server = store.openbao()
    if server is None:
        return local
    from accessgov.secrets.openbao import clock

    now = clock.server_time(server[0])
    if check_clock:
        clock.check_clock(now, local)
    return now


def check(op: Operation, *, acknowledging: bool = False) -> None:
    """Refuse a change dated before the log's last event, unless it is the acknowledgement
    of a clock that was wrong (which checks for itself that there is a step to acknowledge)."""
    last = events.head(op.register)
    op.facts[_LOG_TIME] = last["at"] if last else None
    if last is None or op.at >= last["at"] or acknowledging:
        return
    raise ClockBehind(
        f"this computer's clock says {_shown(op.at)}, earlier than the audit log's last event"
        f" ({_shown(last['at'])}): correct the clock and try again (if the clock was wrong when"
        " those events were recorded, an approver acknowledges it with 'accessgov clock"
        " acknowledge --board-minute REF')")


def log_time(op: Operation) -> str | None:
    """The time of the log's last event, as `check` read it for this change."""
    found = op.facts.get(_LOG_TIME)
    return found if isinstance(found, str) else None


def not_before_log(op: Operation) -> dt.datetime:
    """The change's time, or the log's last event's if the clock is behind it: what a
    refused attempt is dated, so that recording it never sets the log's time back."""
    last = log_time(op)
    return max(op.now, parse_iso(last)) if last else op.now


@dataclasses.dataclass(frozen=True)
class TimeFinding:
    """An event out of time order: dated before the one before it, or in the future.
    `acknowledged`: the step back is an approver's recorded acknowledgement, not a finding."""

    seq: int
    at: str
    problem: str
    acknowledged: bool = False

    def as_dict(self) -> dict[str, object]:
        """The JSON form (schemas/audit-verify.schema.json)."""
        return {"seq": self.seq, "at": self.at, "problem": self.problem}


def findings(register: Register, now: dt.datetime) -> list[TimeFinding]:
    """Every event dated before the event before it, or more than FUTURE_TOLERANCE after
    `now`, with what it means in plain words. An approver's acknowledgement is listed, not
    found, and so are the events dated in the future that it acknowledged (those before it)."""
    latest = iso(now + FUTURE_TOLERANCE)
    rows = events.out_of_time(register, latest)
    acknowledged = max((int(row["seq"]) for row in rows if row["action"] == ACKNOWLEDGED),
                       default=0)
    found = []
    for row in rows:
        seq, at, before = int(row["seq"]), str(row["at"]), row["before"]
        if before is not None and at < before:
            if row["action"] == ACKNOWLEDGED:
                minute = json.loads(row["details"]).get("board_minute", "")
                found.append(TimeFinding(seq, at, (
                    f"event {seq} steps the log's time back from {before} to {at}, as "
                    f"{row['actor']} acknowledged (board minute {minute})"), acknowledged=True))
            else:
                found.append(TimeFinding(seq, at, (
                    f"event {seq} ({row['action']}) is dated {at}, before the event before it "
                    f"({before}): it was recorded by a clock set back")))
        if at > latest:
            if seq < acknowledged:
                found.append(TimeFinding(seq, at, (
                    f"event {seq} ({row['action']}) is dated {at}, in the future, by the clock "
                    f"acknowledged at event {acknowledged}"), acknowledged=True))
            else:
                found.append(TimeFinding(seq, at, (
                    f"event {seq} ({row['action']}) is dated {at}, in the future (it is now "
                    f"{iso(now)}): it was recorded by a clock set ahead")))
    return found


def _shown(stamp: str) -> str:
    return stamp.replace("T", " ").replace("Z", " UTC")
