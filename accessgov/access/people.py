"""People in scope of the policy: trustees, the CEO, staff, volunteers, contractors..."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.db.queries import grants, mfa, people
from accessgov.db.register import Register, Row
from accessgov.db.seals import strip
from accessgov.errors import AlreadyExists, InputError
from accessgov.identity import rules
from accessgov.identity.authority import authorise

if TYPE_CHECKING:
    from accessgov.operation import Operation

# The policy's Scope list, in its order.
CATEGORIES = ("trustee", "ceo", "employee", "volunteer", "sessional", "agency", "contractor",
              "student", "other")


def list_people(register: Register, *, status: str | None = None,
                category: str | None = None) -> list[Row]:
    """People, optionally filtered, ordered by id, with their MFA status."""
    if status:
        validate.one_of(status, ("active", "left"), "status")
    if category:
        validate.one_of(category, CATEGORIES, "category")
    return people.listing(register, status=status, category=category)


def show_person(register: Register, person_id: str, today: str) -> Row:
    """A person with their MFA state and the grants they hold or have asked for."""
    person = strip(people.get(register, person_id))
    state = mfa.summary(register, person_id)
    person["mfa"] = state or {"status": "none", "enrolled_at": None, "confirmed_at": None,
                              "locked_until": None}
    person["grants"] = grants.held_or_asked(register, today=today, person=person_id)
    return person


def add_person(op: Operation, person_id: str, *, name: str, email: str, category: str,
               title: str | None = None, manager: str | None = None,
               start: str | None = None, board_minute: str | None = None) -> Row:
    """Add someone to the register (during set-up anyone may; afterwards the CEO or a
    trustee, with a board minute for a new trustee or CEO)."""
    validate.slug(person_id, "person id")
    if problem := rules.reserved_id(person_id):
        raise InputError(problem)
    if people.exists(op.register, person_id):
        raise AlreadyExists(f"there is already a person {person_id!r} in the register")
    person = {
        "id": person_id,
        "name": validate.text(name, "name", max_length=200),
        "email": validate.email(email),
        "category": validate.one_of(category, CATEGORIES, "category"),
        "title": validate.text(title, "title", max_length=200) if title else None,
        "manager": _manager(op.register, manager, person_id),
        "status": "active",
        "start_date": parse_date(start, "--start") if start else None,
        "leave_date": None,
        "created_at": op.at,
        "updated_at": op.at,
    }
    minute = validate.text(board_minute, "board minute") if board_minute else None
    authorise(op, "person.add", person_id, concerned=person_id, board_minute=minute,
              promotes=rules.is_approver_category(category), becomes=category)
    op.register.insert("people", person)
    op.record("person.add", person_id, name=person["name"], category=person["category"],
              title=person["title"], manager=person["manager"], board_minute=minute)
    return person


def update_person(op: Operation, person_id: str, changes: dict[str, Any],
                  board_minute: str | None = None) -> Row:
    """Change a person's details; only the fields given change. Changing a category to or
    from trustee or CEO makes or unmakes an approver: a board minute, never by themselves."""
    person = people.get(op.register, person_id)
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if value is None:
            continue
        if field == "name":
            clean[field] = validate.text(value, "name", max_length=200)
        elif field == "email":
            clean[field] = validate.email(value)
        elif field == "category":
            clean[field] = validate.one_of(value, CATEGORIES, "category")
        elif field == "title":
            clean[field] = validate.text(value, "title", max_length=200)
        elif field == "manager":
            clean[field] = _manager(op.register, value, person_id)
        elif field == "start_date":
            clean[field] = parse_date(value, "--start")
        else:
            raise InputError(f"{field} cannot be changed with person update")
    if not clean:
        raise InputError("nothing to change: give at least one of --name, --email, "
                         "--category, --title, --manager, --start")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    promotes = "category" in clean and clean["category"] != person["category"] and (
        rules.is_approver_category(clean["category"])
        or rules.is_approver_category(person["category"]))
    authorise(op, "person.update", person_id, concerned=person_id, board_minute=minute,
              promotes=promotes, becomes=clean["category"] if promotes else None,
              benefits=(person_id,) if promotes else ())
    op.register.update("people", {"id": person_id}, clean | {"updated_at": op.at})
    before = {field: person[field] for field in clean}
    op.record("person.update", person_id, before=before, after=clean,
              board_minute=minute if promotes else None)
    return strip(people.get(op.register, person_id))


def _manager(register: Register, manager: str | None, person_id: str) -> str | None:
    if manager is None:
        return None
    if manager == person_id:
        raise InputError("a person cannot be their own manager")
    people.get(register, manager)
    return manager

