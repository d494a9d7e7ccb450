"""Ticking a checklist item by hand: the rule offboarding and incidents share. Items the
register can see settled tick themselves; ticking one of those by hand needs a note."""

from __future__ import annotations

import json
from collections.abc import Collection

from accessgov.common import validate
from accessgov.db.register import Row
from accessgov.errors import InputError


def refuse_if_done(item: Row, number: int, where: str) -> None:
    """An item already done is not ticked again (`where`: the case or incident's id)."""
    if item["status"] == "done":
        raise InputError(f"item {number} of {where} was already done on "
                         f"{item['done_at'][:10]} by {item['done_by']}")


def hand_tick_note(item: Row, number: int, note: str | None,
                   self_ticking: Collection[str]) -> str | None:
    """The note of a tick by hand, checked; refused for an item that ticks itself when no
    note says why it is ticked by hand."""
    note = validate.text(note, "note") if note is not None else None
    if item["kind"] in self_ticking and note is None:
        raise InputError(f"item {number} ticks itself once the register shows it done "
                         f"({json.loads(item['steps'])[-1]}); to tick it by hand, say why "
                         "with --note")
    return note
