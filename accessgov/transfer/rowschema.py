"""Check imported rows against their JSON Schema, with messages charity staff can act on.

The schemas are the ones in schemas/ (import-people, import-accounts, import-delegations,
import-grants), shipped in the package as accessgov/schemas (schemas/ points there). They use a
small part of JSON Schema (draft 2020-12): an object with `required` columns, no other columns,
and for each column its type, `enum`, `pattern`, `minLength`, `maxLength`, and for lists
`items` and `minItems`. This module checks exactly that part, fast enough for 100,000 rows, and
refuses a schema using anything else, so a schema can never say more than is checked.
(jsonschema, a much slower general validator, checks in the tests that both agree.) A pattern's
final `$` is the end of the text, as in JSON Schema's ECMA-262 patterns: in Python's, `$` also
matches before a final line break, which would let an id end with one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import reprlib
from collections.abc import Mapping
from typing import Any

_TOP = {"$schema", "$id", "title", "description", "type", "required", "additionalProperties",
        "properties"}
_COLUMN = {"title", "description", "type", "enum", "pattern", "minLength", "maxLength",
           "items", "minItems"}
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "array": (list,),
                                       "null": (type(None),)}
_EXPECTED = {"string": "text", "boolean": "yes or no", "array": "a list"}


@dataclasses.dataclass(frozen=True)
class Column:
    """What one column may hold."""

    name: str
    types: tuple[str, ...]
    title: str | None = None
    enum: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None
    min_length: int | None = None
    max_length: int | None = None
    items: Column | None = None
    min_items: int | None = None

    @functools.cached_property
    def accepted(self) -> tuple[type, ...]:
        """The Python types a value of this column may have."""
        return tuple(python for kind in self.types for python in _TYPES[kind])

    def problem(self, value: Any) -> str | None:
        """Why `value` does not fit, in words, or None."""
        if value.__class__ not in self.accepted:
            wanted = [_EXPECTED[kind] for kind in self.types if kind in _EXPECTED]
            return f"must be {' or '.join(wanted)}"
        if value is None:
            return None
        if self.enum is not None:
            return None if value in self.enum else \
                f"must be one of: {', '.join(str(v) for v in self.enum if v is not None)}"
        if value.__class__ is str:
            return self._text_problem(value)
        if value.__class__ is list:
            return self._list_problem(value)
        return None

    def _text_problem(self, value: str) -> str | None:
        if self.min_length is not None and len(value) < self.min_length:
            return "cannot be empty"
        if self.max_length is not None and len(value) > self.max_length:
            return f"is too long ({len(value)} characters; at most {self.max_length})"
        if self.pattern is not None and not self.pattern.search(value):
            return f"must be {self.title or 'in the expected form'}"
        return None

    def _list_problem(self, value: list[Any]) -> str | None:
        if self.min_items is not None and len(value) < self.min_items:
            return f"must name at least {self.min_items}"
        for entry in value if self.items else ():
            assert self.items is not None
            problem = self.items.problem(entry)
            if problem:
                return f"{reprlib.repr(entry)} {problem}"
        return None


@dataclasses.dataclass(frozen=True)
class RowSchema:
    """A compiled import schema: its columns and which of them must have a value."""

    name: str
    columns: Mapping[str, Column]
    required: tuple[str, ...]

    def problems(self, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(column, reason) for everything in `record` the schema does not allow."""
        found = [(name, self.unknown_column(name)) for name in record
                 if name not in self.columns]
        for name in self.required:
            if record.get(name) is None:
                found.append((name, "is required"))
        for name, value in record.items():
            column = self.columns.get(name)
            if column is None or (value is None and name in self.required):
                continue
            problem = column.problem(value)
            if problem and (column.enum is not None or problem.startswith("must be ")) and \
                    isinstance(value, str):
                problem = f"{problem} (it is {_value(value)})"  # what to look for in the file
            if problem:
                found.append((name, problem))
        return found

    def unknown_column(self, name: str) -> str:
        """The reason given for a column the schema does not have."""
        return f"is not a column accessgov knows; the columns are: {', '.join(self.columns)}"


def compile_schema(name: str, schema: Mapping[str, Any]) -> RowSchema:
    """A RowSchema from a parsed schema document; ValueError if it uses anything else."""
    _only(set(schema), _TOP, name)
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        raise ValueError(f"{name}: an import schema is a closed object")
    columns = {key: _column(f"{name}.{key}", key, value)
               for key, value in schema["properties"].items()}
    required = tuple(schema.get("required", ()))
    if not set(required) <= set(columns):
        raise ValueError(f"{name}: required names a column it does not describe")
    return RowSchema(name, columns, required)


def _column(where: str, name: str, spec: Mapping[str, Any]) -> Column:
    _only(set(spec), _COLUMN, where)
    types = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
    if not set(types) <= set(_TYPES):
        raise ValueError(f"{where}: unsupported type {types}")
    return Column(
        name=name, types=tuple(types), title=spec.get("title"),
        enum=tuple(spec["enum"]) if "enum" in spec else None,
        pattern=re.compile(_ecma_end(spec["pattern"])) if "pattern" in spec else None,
        min_length=spec.get("minLength"), max_length=spec.get("maxLength"),
        items=_column(f"{where}[]", name, spec["items"]) if "items" in spec else None,
        min_items=spec.get("minItems"),
    )


def _ecma_end(pattern: str) -> str:
    """`pattern` with a final `$` that matches only at the very end of the text."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def _only(keys: set[str], allowed: set[str], where: str) -> None:
    unknown = keys - allowed
    if unknown:
        raise ValueError(f"{where}: the import checker does not support {sorted(unknown)}")


@functools.cache
def load(kind: str) -> RowSchema:
    """The shipped schema for importing `kind` (people, accounts, delegations, grants)."""
    from importlib import resources

    name = f"import-{kind}"
    text = resources.files("accessgov").joinpath("schemas").joinpath(
        f"{name}.schema.json").read_text(encoding="utf-8")
    return compile_schema(name, json.loads(text))


def _value(value: Any) -> str:
    """The value a problem is about, short enough for one line."""
    return reprlib.repr(value)
