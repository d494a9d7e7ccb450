"""Helpers for the governance tests: the checks' JSON."""

from __future__ import annotations

from typing import Any

from tests.support.schemas import validate_output
from tests.support.shell import Shell


def check(sh: Shell, options: str = "", *, expect: int | None = None) -> dict[str, Any]:
    """`check --format json`, validated against schemas/check.schema.json."""
    result = sh.run(f"check --format json {options}", expect=expect)
    data = validate_output("check", result.stdout)
    assert isinstance(data, dict)
    assert result.exit_code == (1 if data["findings"] else 0)
    return data


def found(data: dict[str, Any], rule: str | None = None) -> set[str]:
    """The rules found, or the subjects one rule found."""
    if rule is None:
        return {finding["rule"] for finding in data["findings"]}
    return {finding["subject"] for finding in data["findings"] if finding["rule"] == rule}


def message(data: dict[str, Any], rule: str, subject: str) -> str:
    """The message of one finding."""
    (text,) = [f["message"] for f in data["findings"]
               if f["rule"] == rule and f["subject"] == subject]
    return str(text)

