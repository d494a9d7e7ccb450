"""Reading ahead: a long query asked for on a connection of its own, in a thread, so that the
database works on it while this process does other work.

A review's export reads its 90,000 items in one query that takes the database most of a
second; the policy checks it also runs take about as long here. Both engines let other
threads run while they work (sqlite3 and psycopg release the GIL while the database answers),
so the export waits for the longer of the two, not their sum.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accessgov.db.register import Params, Register

_NOTHING = object()


class ReadAhead:
    """A query's rows as plain tuples, asked for now in a thread on `reader` (the register on
    a connection of its own, which this takes over); iterating waits for the first of them.
    Iterate once; the connection is closed when the rows are read or `close` is called.

    The connection is made by the caller's thread: only the query runs in the other one, so
    the two never load a module at once (psycopg's import each other)."""

    def __init__(self, reader: Register, sql: str, params: Params) -> None:
        self._reader: Register | None = reader
        self._rows: Iterator[tuple[Any, ...]] | None = None
        self._first: Any = _NOTHING
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._ask, args=(reader, sql, params),
                                        name="accessgov-read-ahead", daemon=True)
        self._thread.start()

    def _ask(self, reader: Register, sql: str, params: Params) -> None:
        try:
            self._rows = reader.tuples(sql, params)
            self._first = next(self._rows, _NOTHING)  # the database runs the query here
        except BaseException as error:  # raised where the rows are read, as a read raises
            self._error = error

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        self._thread.join()
        try:
            if self._error is not None:
                raise self._error
            if self._first is not _NOTHING and self._rows is not None:
                yield self._first
                yield from self._rows
        finally:
            self.close()

    def close(self) -> None:
        """Wait for the query (a connection is never closed under it), then close."""
        self._thread.join()
        if self._rows is not None:
            _let_go(self._rows)
            self._rows = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class ReadNow:
    """The rows of a query read on the register's own connection when iterated: what reading
    ahead falls back to where a second connection would not see what this one sees."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        """Nothing was asked for yet (or the rows were read): let the query go."""
        _let_go(self._rows)


def _let_go(rows: Iterator[tuple[Any, ...]]) -> None:
    """End a query's rows before they are all read (the engines' readers are generators)."""
    close = getattr(rows, "close", None)
    if close is not None:
        close()
