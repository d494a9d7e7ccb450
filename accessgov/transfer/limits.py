"""How big an import file may be. Each limit is far above any charity's spreadsheet (a
register of 100,000 grants is a 15 MB CSV) and far below what would exhaust memory or reach
a limit of Python or SQLite; a file beyond one is refused whole, with one line naming what
is too big (exit 2), before any row is checked.
"""

from __future__ import annotations

MAX_FILE_BYTES = 256 * 1024 * 1024  # 256 MiB, read at most once, into memory
MAX_ROWS = 1_000_000  # rows of a file (all kinds of an export together), blank ones included
MAX_COLUMNS = 100  # columns of a CSV header, cells of a row, fields of a JSON record
MAX_COLUMN_NAME = 100  # characters of a column's title or a field's name
MAX_CELL = 10_000  # characters of a cell or a JSON text; entries of a JSON list
MAX_DEPTH = 32  # how deep JSON lists and objects nest (an export nests 4 deep)
MAX_NUMBER_CHARS = 20  # characters of a number written in JSON (none is a value of a row)
# An id keeps its number: G- or D- and 4 to 9 digits (the schemas' patterns), so at most
# accessgov.common.validate.MAX_NUMBER, which no next number can pass.
