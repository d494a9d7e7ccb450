"""What a value looks like as text, safely: one line, every control shown as an escape.

Every renderer (tables, Markdown, HTML, the one-line errors) shows stored text through here, so
nothing a person typed (or wrote into the register by other means) can move the cursor,
recolour the terminal, fake a line, or reorder what is shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# What must never reach a terminal raw (C0 and C1 controls, DEL, line separators, bidirectional
# overrides, lone surrogates): the same characters the input checks refuse. A pattern, compiled
# (and cached by `re`) when first used: compiling it costs a read command a millisecond.
from accessgov.common.validate import UNSAFE


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        return ", ".join(map(str, value))  # people, ids: as a person writes a list
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return str(value)


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    if char in "\n\t":
        return " "
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` safe to print on a terminal: on one line, with every control shown as an escape.

    Newlines and tabs become spaces; other controls become Python-style escapes (`\\x1b`,
    `\\x0d`, `\\u2028`), so stored text cannot move the cursor, recolour or retitle the
    terminal, overwrite a line or reorder what is shown. Input checks refuse such text;
    this is the second guard, for data stored before them or by other means.
    """
    return re.sub(UNSAFE, _escape_control, text)


def text(value: Any) -> str:
    return visible(cell(value))


def header(column: str) -> str:
    return visible(column.replace("_", " "))


def key_values(mapping: Mapping[str, Any]) -> str:
    """A mapping on one line as `key=value, key=value` (the audit log's details, in a table)."""
    return ", ".join(f"{key}={value}" for key, value in mapping.items())
