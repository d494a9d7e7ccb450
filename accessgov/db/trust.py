"""The read path of a change: every row a decision rests on is checked as it is read.

While a change runs, the Register hands each whole row of a sealed table it reads to the
change's `Verifier` (see `Register.sealed_row`). A row written behind the log fails its seal;
a row put back from an older copy names an older event than the log's latest about it; both
are refused before any decision can rest on them. The domain never checks rows itself: it
asks `accessgov.db.queries` for them and gets them checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from accessgov.db import seals
from accessgov.db.queries import events
from accessgov.db.register import Register, Row
from accessgov.errors import Tampered

EventCheck = Callable[[Mapping[str, Any]], bool]


class Verifier:
    """Checks the sealed rows one change reads, each once.

    Where seals are listed (changes signed by their actors), a row's seal is a plain hash: the
    row is trusted when the signed event it names lists it with that seal, and that event's
    own seal and signature hold (`event_holds`).
    """

    def __init__(self, register: Register, sealer: seals.RowSeals,
                 event_holds: EventCheck) -> None:
        self._register = register
        self._sealer = sealer
        self._event_holds = event_holds
        self._vouched: set[tuple[str, str]] = set()  # rows this change found sealed
        self._lists: dict[int, tuple[frozenset[str], str | None]] = {}  # trusted row lists

    def check(self, table: str, row: Row) -> Row:
        """`row` if it carries accessgov's seal and is current; Tampered otherwise. A row this
        change already found sealed, or created itself, is trusted though the change has
        written to it since."""
        key = (table, seals.row_key(table, row))
        if key in self._vouched or seals.created_here(self._register, *key):
            return row
        seals.require_sealed(self._sealer, self._register, table, row)
        if self._sealer.listed:
            self._require_listed(table, key[1], row)
        seals.require_current(self._register, table, row)
        self._vouched.add(key)
        return row

    def holds(self, table: str, row: Row) -> bool:
        """Whether `row` passes `check` (and is then trusted by this change, as there)."""
        try:
            self.check(table, row)
        except Tampered:
            return False
        return True

    def _require_listed(self, table: str, pk: str, row: Row) -> None:
        seq = row.get("sealed_seq")
        found = self._row_list(seq) if isinstance(seq, int) else None
        if found is None or f"+{table}\t{pk}\t{row['seal']}" not in found[0]:
            raise Tampered(
                f"the register was changed outside accessgov: the {table} row {pk!r} is not "
                "vouched for by a signed change of the log, so it is not trusted; run "
                "'accessgov audit verify'")
        decider = seals.DECIDED_BY.get(table)
        if decider is not None and row[decider] != found[1]:
            raise Tampered(
                f"the register was changed outside accessgov: the {table} row {pk!r} names "
                f"{row[decider]} as deciding, but the change that wrote it was signed by "
                f"{found[1]}; run 'accessgov audit verify'")

    def _row_list(self, seq: int) -> tuple[frozenset[str], str | None] | None:
        """The row list of event `seq` and who signed it, if the event holds (its seal and
        signature)."""
        if seq not in self._lists:
            event = events.by_seq(self._register, seq)
            # A change's rows are listed on its last event, which its actor signs: a list on
            # an event nobody signed vouches for nothing.
            if event is None or not event.get("signature") or not self._event_holds(event):
                return None
            self._lists[seq] = (frozenset(event["rows"].split("\n")), event.get("signer"))
        return self._lists[seq]
