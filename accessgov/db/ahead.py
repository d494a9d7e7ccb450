"""Reading ahead: a long query asked for on a connection of its own, in a thread, so that the
database works on it while this process does other work.

A review's export reads its 90,000 items in one query that takes the database most of a
second, longer than the policy checks it also runs. It asks for the items' two halves at
once, each on a connection of its own, then runs the checks. Both engines let other threads
run while they work (sqlite3 and psycopg release the GIL while the database answers), so
the export waits for the longest of the three, not their sum.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accessgov.db.register import Params, Register

_NOTHING = object()


class ReadAhead:
    """The rows of one or more queries as plain tuples, one query after another; each is
    asked for now, in a thread of its own, on a connection of its own (`parts` pairs each
    query with the register opened for it, which this takes over). Iterating waits for each
    query's first rows in turn. Iterate once; every connection is closed when the rows are
    read or `close` is called.

    The connections are made by the caller's thread: only the queries run in the others, so
    two threads never load a module at once (psycopg's modules import each other)."""

    def __init__(self, parts: Sequence[tuple[Register, str, Params]]) -> None:
        self._parts = [_Part(reader, sql, params) for reader, sql, params in parts]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        try:
            for part in self._parts:
                yield from part.rows()
        finally:
            self.close()

    def close(self) -> None:
        """Wait for every query (a connection is never closed under one), then close."""
        for part in self._parts:
            part.close()


class _Part:
    """One query of a ReadAhead, run in its own thread on its own connection."""

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

    def rows(self) -> Iterator[tuple[Any, ...]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._first is not _NOTHING and self._rows is not None:
            yield self._first
            yield from self._rows

    def close(self) -> None:
        self._thread.join()
        if self._rows is not None:
            _let_go(self._rows)
            self._rows = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class ReadNow:
    """The rows of queries read on the register's own connection when iterated, one query
    after another: what reading ahead falls back to where a second connection would not see
    what this one sees."""

    def __init__(self, register: Register, statements: Sequence[tuple[str, Params]]) -> None:
        self._register = register
        self._statements = statements
        self._rows: Iterator[tuple[Any, ...]] | None = None

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for sql, params in self._statements:
            self._rows = self._register.tuples(sql, params)
            yield from self._rows
        self._rows = None

    def close(self) -> None:
        """Let go of a query whose rows were not all read."""
        if self._rows is not None:
            _let_go(self._rows)
            self._rows = None


def _let_go(rows: Iterator[tuple[Any, ...]]) -> None:
    """End a query's rows before they are all read (the engines' readers are generators)."""
    close = getattr(rows, "close", None)
    if close is not None:
        close()
