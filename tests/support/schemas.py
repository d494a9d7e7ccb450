"""Check a command's JSON output against its schema in schemas/."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def schema_path(name: str) -> Path:
    """`schemas/<name>.schema.json` in this checkout."""
    return SCHEMA_DIR / f"{name}.schema.json"


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema called `name`, checked to be a valid draft 2020-12 schema."""
    schema: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def validate_data(name: str, data: object) -> object:
    """Validate already-parsed data against schema `name`; raises ValidationError."""
    jsonschema.Draft202012Validator(load_schema(name)).validate(data)
    return data


def validate_output(name: str, text: str) -> object:
    """Parse `text` as JSON, validate it against schema `name` and return the data."""
    return validate_data(name, json.loads(text))
