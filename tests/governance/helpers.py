"""Helpers for the governance tests: the checks' JSON, and a store that behaves otherwise."""

from __future__ import annotations

from typing import Any

from tests.support.memory_backend import MemoryBackend
from tests.support.schemas import validate_output
from tests.support.shell import Shell


def store_behaving(sh: Shell, **behaviour: bool) -> None:
    """From now on, every store the shell opens has these attributes set (`broken=True`: it
    cannot be reached; `can_list=False`: it cannot list its entries, as a keyring)."""
    factory = sh.backend_factory

    def changed(config: object) -> MemoryBackend:
        backend = factory(config)  # type: ignore[arg-type]
        assert isinstance(backend, MemoryBackend)
        for name, value in behaviour.items():
            setattr(backend, name, value)
        return backend

    sh.backend_factory = changed  # type: ignore[assignment]


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

