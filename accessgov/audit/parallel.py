"""`audit verify` on two cores: the state is checked in a second process while this one
checks the chain. Both are CPU-bound (an HMAC per event, one per row)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from accessgov.audit.state import StateCheck, UnexplainedRow, check_snapshot
from accessgov.db import seals
from accessgov.db.queries import events
from accessgov.db.register import Register

# From this many events on, the second process pays for itself.
PARALLEL_FROM = 20_000


def check_in_background(register: Register, sealer: seals.RowSeals
                        ) -> Callable[[], StateCheck] | None:
    """Start `check_snapshot` in a forked child on its own connection, when the log is long
    enough to gain from it and the platform can fork; returns how to collect the result.
    The child leaves out the decisions made in another's name, for this process to check
    once it has checked the chain (`state.decisions_in_another_name`): the state is the
    longer half of the work."""
    if events.last_seq(register) < PARALLEL_FROM or not hasattr(os, "fork"):
        return None
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which reports through the pipe
        _report_from_child(register, sealer, writer)
    os.close(writer)
    return lambda: _collect(child, reader)


def _report_from_child(register: Register, sealer: seals.RowSeals, writer: int) -> None:
    status = 1
    try:
        result = check_snapshot(register.reopen(), sealer, decisions=False)
        payload = {"head": result.head, "rows": result.rows_checked,
                   "findings": [finding.as_dict() for finding in result.findings]}
        with os.fdopen(writer, "w", encoding="utf-8") as pipe:
            json.dump(payload, pipe)
        status = 0
    finally:
        os._exit(status)


def _collect(child: int, reader: int) -> StateCheck:
    with os.fdopen(reader, encoding="utf-8") as pipe:
        text = pipe.read()
    _, status = os.waitpid(child, 0)
    if status != 0 or not text:
        raise RuntimeError("the state check in the second process failed")
    data = json.loads(text)
    head = tuple(data["head"]) if data["head"] else None
    return StateCheck(head, tuple(UnexplainedRow(**f) for f in data["findings"]),
                      data["rows"])
