"""The import schemas: shipped in the package as they stand in schemas/, checked by the fast
checker exactly as jsonschema checks them, and never saying more than the checker checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from accessgov.transfer import rowschema
from tests.support.schemas import SCHEMA_DIR, load_schema, validate_output

KINDS = ("people", "accounts", "delegations", "grants")
# Each schema by its name, as the check that every schema is exercised looks for it.
VALIDATE = {
    "people": lambda text: validate_output("import-people", text),
    "accounts": lambda text: validate_output("import-accounts", text),
    "delegations": lambda text: validate_output("import-delegations", text),
    "grants": lambda text: validate_output("import-grants", text),
}
PACKAGE_SCHEMAS = Path(rowschema.__file__).resolve().parents[1] / "schemas"


@pytest.mark.parametrize("kind", KINDS)
def test_the_package_ships_the_schema_in_schemas(kind: str) -> None:
    name = f"import-{kind}.schema.json"
    assert (PACKAGE_SCHEMAS / name).read_bytes() == (SCHEMA_DIR / name).read_bytes()
    assert list(rowschema.load(kind).columns) == list(
        json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))["properties"])


GOOD: list[tuple[str, dict[str, Any]]] = [
    ("people", {"id": "jdoe", "name": "Jo Doe", "email": "j@example.org",
                "category": "employee"}),
    ("people", {"id": "a.b_c-1", "name": "Zoë Ångström", "email": "z@example.org",
                "category": "trustee", "title": None, "manager": "jdoe", "status": "left",
                "start_date": "2020-01-01", "leave_date": "2024-12-31"}),
    ("accounts", {"id": "x-main", "platform": "x", "handle": "@i", "owner": "jdoe",
                  "purpose": "News", "recovery_phone": "+44 7700 900123",
                  "archived_at": "2025-01-01T09:00:00Z", "status": "archived"}),
    ("delegations", {"delegate": "jdoe", "granted_by": "ceo", "valid_from": "2025-01-01",
                     "all_accounts": False, "accounts": ["x-main", "ig"]}),
    ("delegations", {"id": "D-0001", "delegate": "jdoe", "granted_by": "ceo",
                     "valid_from": "2025-01-01", "all_accounts": True, "accounts": []}),
    ("grants", {"person": "jdoe", "account": "x-main", "role": "editor", "reason": "x",
                "decided_by": "ceo", "authority": "delegation:D-0001",
                "decided_at": "2025-01-01"}),
    ("grants", {"id": "G-12345", "person": "jdoe", "account": "x-main", "role": "admin",
                "reason": "x", "status": "pending", "decided_by": None}),
]

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("people", {"id": "jdoe", "name": "Jo", "email": "j@example.org"}, "category"),
    ("people", {"id": "J Doe", "name": "Jo", "email": "j@example.org",
                "category": "employee"}, "id"),
    ("people", {"id": "jdoe", "name": "", "email": "j@example.org", "category": "employee"},
     "name"),
    ("people", {"id": "jdoe", "name": "Jo\nDoe", "email": "j@example.org",
                "category": "employee"}, "name"),
    ("people", {"id": "jdoe", "name": "Jo\u202eeoD", "email": "j@example.org",
                "category": "employee"}, "name"),
    ("people", {"id": "jdoe", "name": "x" * 201, "email": "j@example.org",
                "category": "employee"}, "name"),
    ("people", {"id": "jdoe", "name": "Jo", "email": "j@example.org", "category": "employee",
                "nickname": "JD"}, "nickname"),
    ("people", {"id": "jdoe", "name": "Jo", "email": "j@example.org", "category": "employee",
                "start_date": "2025-1-1"}, "start_date"),
    ("people", {"id": "jdoe", "name": "Jo", "email": "j@example.org", "category": "employee",
                "start_date": "\uff12\uff10\uff12\uff15-01-01"}, "start_date"),  # wide digits
    ("accounts", {"id": "x-main", "platform": "myspace", "handle": "@i", "owner": "jdoe",
                  "purpose": "News"}, "platform"),
    ("accounts", {"id": "x-main", "platform": "x", "handle": "@i", "owner": "jdoe",
                  "purpose": "News", "recovery_phone": "call me"}, "recovery_phone"),
    ("delegations", {"delegate": "jdoe", "granted_by": "ceo", "valid_from": "2025-01-01",
                     "all_accounts": "yes"}, "all_accounts"),
    ("delegations", {"delegate": "jdoe", "granted_by": "ceo", "valid_from": "2025-01-01",
                     "accounts": ["Bad Id"]}, "accounts"),
    ("delegations", {"delegate": "jdoe", "granted_by": "ceo", "valid_from": "2025-01-01",
                     "accounts": "x-main"}, "accounts"),
    ("grants", {"person": "jdoe", "account": "x", "role": "owner", "reason": "x"}, "role"),
    ("grants", {"person": "jdoe", "account": "x", "role": "admin", "reason": "x",
                "authority": "delegation:D-1"}, "authority"),
    ("grants", {"person": "jdoe", "account": "x", "role": "admin", "reason": "x",
                "decided_at": "2025-01-01 10:00"}, "decided_at"),
    ("grants", {"person": "jdoe", "account": "x", "role": "admin", "reason": "x",
                "id": 12}, "id"),
    ("grants", {"person": "jdoe", "account": "x", "role": "admin", "reason": True}, "reason"),
]


@pytest.mark.parametrize(("kind", "record"), GOOD)
def test_good_rows_pass_both_checkers(kind: str, record: dict[str, Any]) -> None:
    VALIDATE[kind](json.dumps(record))
    assert rowschema.load(kind).problems(record) == []


@pytest.mark.parametrize(("kind", "record", "column"), BAD)
def test_bad_rows_fail_both_checkers_on_the_same_column(kind: str, record: dict[str, Any],
                                                       column: str) -> None:
    errors = list(jsonschema.Draft202012Validator(load_schema(f"import-{kind}"))
                  .iter_errors(record))
    assert errors
    found = rowschema.load(kind).problems(record)
    assert [name for name, _ in found] == [column], found
    reason = found[0][1]
    assert reason and "\n" not in reason and "^" not in reason  # words, not a regex


def test_the_checker_refuses_a_schema_that_says_more_than_it_checks() -> None:
    schema = json.loads((SCHEMA_DIR / "import-people.schema.json").read_text())
    schema["properties"]["email"]["format"] = "email"
    with pytest.raises(ValueError, match=r"does not support \['format'\]"):
        rowschema.compile_schema("import-people", schema)
    schema = json.loads((SCHEMA_DIR / "import-people.schema.json").read_text())
    schema["if"] = {}
    with pytest.raises(ValueError, match="does not support"):
        rowschema.compile_schema("import-people", schema)
