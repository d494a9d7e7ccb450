"""A quick reader of a PostgreSQL register: libpq itself, through ctypes.

Loading psycopg takes longer (about 110 ms: it brings asyncio, logging, importlib.metadata)
than a small read command takes altogether on SQLite. Such a command reads a few rows, so
it asks libpq directly: the C library psycopg's wheel ships (or the system's). Whatever this
reader does not know how to give exactly as psycopg would (a type it does not convert, a
parameter it does not send, an error, a big result, anything but a SELECT) it hands back
(None), and the register runs it through psycopg from then on: the rows and errors a
command sees are psycopg's own.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# A result with more values than this is read faster by psycopg's C code than cell by cell
# through ctypes (about 1.5 microseconds a value), even counting psycopg's loading.
MOST_VALUES = 50_000

_CONNECTION_OK = 0
_TUPLES_OK = 2
_UNKNOWN = 0
_BOOL, _INT8, _INT2, _INT4, _NUMERIC, _FLOAT8 = 16, 20, 21, 23, 1700, 701


def _loaded_bool(text: str) -> bool:
    return text == "t"


def _loaded_decimal(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def _loaded_json(text: str) -> Any:
    import json

    return json.loads(text)


# How psycopg gives each type back (a type not here is handed back); None: the text itself.
_LOADERS: dict[int, Callable[[str], Any] | None] = {
    _BOOL: _loaded_bool, _INT8: int, _INT2: int, _INT4: int, 26: int,  # oid
    25: None, 1043: None, 1042: None, 19: None, 18: None,  # text, varchar, bpchar, name, "char"
    700: float, _FLOAT8: float, _NUMERIC: _loaded_decimal,
    114: _loaded_json, 3802: _loaded_json,
}


def _library_paths() -> list[str]:
    """Where libpq may be: beside the psycopg_binary package that `import` would find (the
    libpq psycopg itself would load), then the system's. Only that package's own folders: a
    library elsewhere on sys.path (the current folder, under `python -m`) is never loaded."""
    found = []
    for entry in sys.path:
        package = os.path.join(entry or ".", "psycopg_binary")
        if not os.path.isdir(package):
            continue
        for folder in (package + ".libs", os.path.join(package, ".dylibs")):
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            found += [os.path.join(folder, name) for name in sorted(names)
                      if name.startswith("libpq") and not name.endswith(".a")]
        break
    return [*found, "libpq.so.5", "libpq.5.dylib", "libpq.dll"]


def _library() -> ctypes.CDLL | None:
    for path in _library_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        _declare(lib)
        return lib
    return None


def _declare(lib: ctypes.CDLL) -> None:
    p, text, number = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    for name, result, arguments in (
        ("PQconnectdbParams", p, [ctypes.POINTER(text), ctypes.POINTER(text), number]),
        ("PQstatus", number, [p]),
        ("PQfinish", None, [p]),
        ("PQparameterStatus", text, [p, text]),
        ("PQexecParams", p, [p, text, number, ctypes.POINTER(ctypes.c_uint),
                             ctypes.POINTER(text), p, p, number]),
        ("PQresultStatus", number, [p]),
        ("PQntuples", number, [p]),
        ("PQnfields", number, [p]),
        ("PQfname", text, [p, number]),
        ("PQftype", ctypes.c_uint, [p, number]),
        ("PQgetvalue", text, [p, number, number]),
        ("PQgetisnull", number, [p, number, number]),
        ("PQclear", None, [p]),
    ):
        function = getattr(lib, name)
        function.restype, function.argtypes = result, arguments


def _sent(value: Any) -> tuple[int, bytes | None] | None:
    """A parameter as psycopg sends it: its type (psycopg's choice) and its text; None for a
    value this reader leaves to psycopg."""
    if value is None:
        return _UNKNOWN, None
    if isinstance(value, bool):
        return _BOOL, b"t" if value else b"f"
    if isinstance(value, int):
        kind = (_INT2 if -2**15 <= value < 2**15 else _INT4 if -2**31 <= value < 2**31
                else _INT8 if -2**63 <= value < 2**63 else _NUMERIC)
        return kind, str(value).encode()
    if isinstance(value, str) and "\x00" not in value:
        return _UNKNOWN, value.encode()  # psycopg sends a str untyped, for the server to infer
    return None


class QuickReader:
    """One libpq connection, in autocommit, that answers SELECTs with few rows."""

    def __init__(self, lib: ctypes.CDLL, conn: int) -> None:
        self._lib = lib
        self._conn: int | None = conn

    @classmethod
    def connect(cls, conninfo: str, *, timeout: int, application: str) -> QuickReader | None:
        """A connection as psycopg would make it; None where libpq is not found or the
        connection fails (psycopg then connects, and says why it cannot)."""
        lib = _library()
        if lib is None:
            return None
        keys = ("dbname", "connect_timeout", "application_name")
        values = (conninfo, str(timeout), application)
        keywords = (ctypes.c_char_p * 4)(*(key.encode() for key in keys), None)
        given = (ctypes.c_char_p * 4)(*(value.encode() for value in values), None)
        conn = lib.PQconnectdbParams(keywords, given, 1)
        if not conn:
            return None
        reader = cls(lib, conn)
        encoding = lib.PQparameterStatus(conn, b"client_encoding")
        if lib.PQstatus(conn) != _CONNECTION_OK or encoding != b"UTF8":
            reader.close()
            return None
        return reader

    def rows(self, sql: str, takes: Sequence[int | str],
             params: Sequence[Any] | Mapping[str, Any]) -> list[dict[str, Any]] | None:
        """The rows of a SELECT with `$n` placeholders (parameter n is params[takes[n-1]]),
        as dicts; None for a statement to hand back to psycopg, which runs it again (the
        register's SELECTs only read)."""
        if self._conn is None or sql.lstrip()[:6].upper() != "SELECT":
            return None
        if not isinstance(params, Mapping) and len(params) != sum(
                isinstance(key, int) for key in takes):
            return None  # psycopg refuses a count of parameters that differs
        try:
            chosen = [params[key] for key in takes]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return None
        sent = [_sent(value) for value in chosen]
        if None in sent:
            return None
        count = len(sent)
        types = (ctypes.c_uint * count)(*(kind for kind, _ in sent))  # type: ignore[misc]
        texts = (ctypes.c_char_p * count)(*(text for _, text in sent))  # type: ignore[misc]
        lib = self._lib
        result = lib.PQexecParams(self._conn, sql.encode(), count, types, texts, None, None, 0)
        if not result:
            return None
        try:
            return self._read(result)
        finally:
            lib.PQclear(result)

    def _read(self, result: int) -> list[dict[str, Any]] | None:
        lib = self._lib
        if lib.PQresultStatus(result) != _TUPLES_OK:
            return None
        width, length = lib.PQnfields(result), lib.PQntuples(result)
        if width * length > MOST_VALUES:
            return None
        names = [lib.PQfname(result, column).decode() for column in range(width)]
        loaders = []
        for column in range(width):
            kind = lib.PQftype(result, column)
            if kind not in _LOADERS:
                return None
            loaders.append(_LOADERS[kind])
        value, is_null = lib.PQgetvalue, lib.PQgetisnull
        found = []
        for row in range(length):
            values: list[Any] = []
            for column, load in enumerate(loaders):
                raw = value(result, row, column)
                if not raw and is_null(result, row, column):
                    values.append(None)
                    continue
                text = raw.decode()
                values.append(text if load is None else load(text))
            found.append(dict(zip(names, values, strict=True)))
        return found

    def close(self) -> None:
        if self._conn is not None:
            self._lib.PQfinish(self._conn)
            self._conn = None
