"""The checks of imported rows, one class per kind: first the row's schema
(schemas/import-<kind>.schema.json), then the register and the rules of the commands that add
such records one by one (see accessgov.transfer.importing for the list).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import Any, ClassVar

from accessgov.access import catalogue
from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.common.validate import MAX_NUMBER
from accessgov.common.words import a_category
from accessgov.db.register import Row
from accessgov.errors import InputError
from accessgov.identity import rules
from accessgov.identity.authority import proxy_problem
from accessgov.identity.rules import is_approver_category
from accessgov.transfer import reading, rowschema
from accessgov.transfer.exporting import grant_by_id
from accessgov.transfer.world import Accepted, ImportContext, Problem, World


class Checker:
    """The checks of one kind of row; subclasses say what a good row is."""

    kind = ""

    def __init__(self, world: World, context: ImportContext, section: reading.Section) -> None:
        self.world = world
        self.context = context
        self.schema = rowschema.load(self.kind)
        self.first_row: dict[str, int] = {}  # id -> the row that first had it
        self.moments: dict[str, tuple[str | None, str | None]] = {}

    def check(self, number: int, record: dict[str, Any] | None, note: str | None = None
              ) -> Accepted | list[Problem]:
        """The row as it will be stored, or its problems (`record` is None for a row that is
        not a record; `note`, what reading found wrong with the row as a whole)."""
        shape = self._shape(record, note)
        if shape:
            return [Problem(self.kind, number, column, reason) for column, reason in shape]
        assert record is not None  # a row that is not a record has its shape problem
        self.problems: list[Problem] = []
        self.number = number
        cleaned = self.clean(record)
        if self.problems:
            return self.problems
        assert cleaned is not None
        return self.settle(cleaned)

    def finish(self) -> list[Problem]:
        """Problems only known once every row was read."""
        return []

    def clean(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The row with defaults filled in and every rule checked (problems via `problem`)."""
        raise NotImplementedError

    updatable: tuple[str, ...] = ()  # the columns `--update` may change
    UPDATE_HINTS: ClassVar[dict[str, str]] = {}

    def existing(self, record_id: str) -> dict[str, Any] | None:
        """The register's record with this id, in the form rows are compared in."""
        raise NotImplementedError

    def remember(self, record: dict[str, Any]) -> None:
        """Make an accepted new row visible to the rows after it."""

    def _shape(self, record: dict[str, Any] | None, note: str | None
               ) -> list[tuple[str | None, str]]:
        if record is None:
            return [(None, "must be a JSON object")]
        found: list[tuple[str | None, str]] = [(None, note)] if note else []
        return found + list(self.schema.problems(record))

    def problem(self, column: str | None, reason: str, *, refusal: bool = False) -> None:
        """Note a problem with the row being checked."""
        self.problems.append(Problem(self.kind, self.number, column, reason, refusal))

    def settle(self, cleaned: dict[str, Any]) -> Accepted | list[Problem]:
        """New, unchanged, or in conflict with the register or an earlier row."""
        record_id = cleaned["id"]
        if record_id in self.first_row:
            return [Problem(self.kind, self.number, "id",
                            f"{record_id} appears twice in this file (first in row "
                            f"{self.first_row[record_id]})")]
        self.first_row[record_id] = self.number
        existing = self.existing(record_id)
        if existing is None:
            self.remember(cleaned)
            return Accepted(cleaned)
        differing = [key for key in cleaned
                     if not key.startswith("_") and cleaned[key] != existing.get(key)]
        if not differing:
            return Accepted(cleaned, unchanged=True)
        if self.context.update and self.updatable:
            fixed = [key for key in differing if key not in self.updatable]
            if not fixed:
                self.remember(existing | cleaned)
                return Accepted(cleaned, changed=tuple(differing))
            return [Problem(self.kind, self.number, key,
                            f"{record_id}'s {key} cannot be changed by an import (it is "
                            f"{existing.get(key)!r} in the register); "
                            f"{self.UPDATE_HINTS.get(key, 'use the accessgov command')}")
                    for key in fixed]
        return [Problem(self.kind, self.number, "id",
                        f"{record_id} is already in the register with a different "
                        f"{', '.join(differing)}; change it with the accessgov command, not "
                        "an import")]

    # -- shared checks --

    @property
    def operator(self) -> str | None:
        """The importing person's id, when known."""
        return self.context.operator["id"] if self.context.operator else None

    def person(self, column: str, person_id: str | None) -> Row | None:
        """A person of the register (or accepted earlier), or a problem."""
        if person_id is None:
            return None
        found = self.world.people.get(person_id)
        if found is None:
            self.problem(column, f"{person_id} is not a person in the register")
        return found

    def date(self, column: str, value: str | None) -> str | None:
        """A real calendar date, or a problem."""
        if value is None:
            return None
        try:
            return parse_date(value, column)
        except InputError:
            self.problem(column, f"{value} is not a real date")
            return None

    def moment(self, column: str, value: str | None) -> str | None:
        """A date or time, stored as a UTC time not in the future; or a problem."""
        if value is None:
            return None
        if value not in self.moments:  # a spreadsheet repeats its dates: each is read once
            self.moments[value] = _moment(value, self.context.now)
        text, reason = self.moments[value]
        if reason:
            self.problem(column, reason)
        return text

    def checked(self, column: str, check: Callable[[str, str], str],
                value: str | None) -> str | None:
        """`value` as one of accessgov.common.validate's checks takes it, or a problem."""
        if value is None:
            return None
        try:
            return check(value, column.replace("_", " "))
        except InputError as error:
            self.problem(column, str(error))
            return None

    def text(self, column: str, value: str | None, max_length: int = 500) -> str | None:
        """Free text as the one-by-one commands take it."""
        if value is None:
            return None
        try:
            return validate.text(value, column, max_length=max_length)
        except InputError as error:
            self.problem(column, str(error))
            return None


class PeopleChecker(Checker):
    """People: the same rules as `person add` (and, with --update, `person update` for their
    details; a change of category or a leaver is for the commands that decide those)."""

    kind = "people"
    updatable = ("name", "email", "title", "manager", "start_date")
    UPDATE_HINTS: ClassVar[dict[str, str]] = {
        "category": "use 'accessgov person update' (an approver's category needs a board "
                    "minute)",
        "status": "someone leaves with 'accessgov offboard start', and comes back with "
                  "'accessgov person reinstate'",
        "leave_date": "someone leaves with 'accessgov offboard start'",
    }

    def __init__(self, world: World, context: ImportContext, section: reading.Section) -> None:
        super().__init__(world, context, section)
        self.managers: list[tuple[int, str]] = []
        # For rows without an id: the person with the row's email, in the register or file.
        self.by_email = {str(p["email"]).lower(): str(p["id"])
                         for p in world.people.values() if p.get("email")}

    def clean(self, record: dict[str, Any]) -> dict[str, Any] | None:
        status = record.get("status") or "active"
        cleaned = {
            "id": record.get("id") or self._id_for(record), "name": self.text(
                "name", record["name"], 200),
            "email": self.checked("email", validate.email, record["email"]),
            "category": record["category"],
            "title": self.text("title", record.get("title"), 200),
            "manager": record.get("manager"), "status": status,
            "start_date": self.date("start_date", record.get("start_date")),
            "leave_date": self.date("leave_date", record.get("leave_date")),
        }
        if problem := rules.reserved_id(cleaned["id"]):
            self.problem("id", problem)
        if cleaned["manager"] == cleaned["id"]:
            self.problem("manager", "a person cannot be their own manager")
        elif cleaned["manager"]:
            self.managers.append((self.number, cleaned["manager"]))
        if cleaned["leave_date"] and status != "left":
            self.problem("leave_date", "only someone who has left has a leave date (set "
                                       "status to left, or use 'accessgov offboard start')")
        if cleaned["leave_date"] and cleaned["start_date"] and \
                cleaned["leave_date"] < cleaned["start_date"]:
            self.problem("leave_date", "is before the start date")
        if self.world.people.get(cleaned["id"]) is None:
            self._new_person_rules(cleaned)
        return cleaned

    def _id_for(self, record: dict[str, Any]) -> str:
        """A row without an id: the person already in the register (or earlier in the file)
        with its email, else one made from the name (Jo Doe: jdoe; then jdoe2...)."""
        email = str(record.get("email") or "").strip().lower()
        if email and email in self.by_email:
            return self.by_email[email]
        words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKD", str(record["name"]))
                           .encode("ascii", "ignore").decode().lower())
        base = (words[0][0] + words[-1] if len(words) > 1 else words[0] if words
                else "person")[:60]
        made, number = base, 1
        while made in self.world.people or made in self.first_row or \
                rules.reserved_id(made):
            number += 1
            made = f"{base}{number}"
        if email:
            self.by_email[email] = made
        return made

    def _new_person_rules(self, cleaned: dict[str, Any]) -> None:
        if cleaned["status"] != "active" or not is_approver_category(cleaned["category"]):
            return
        ceos = (p["id"] for p in self.world.people.values()
                if p["category"] == "ceo" and p["status"] == "active")
        if problem := rules.second_ceo(ceos, cleaned["id"], cleaned["category"]):
            self.problem("category", problem)
        if self.context.board_minute is None:
            self.problem("category", f"making {cleaned['id']} a {cleaned['category']} needs "
                                     "the board minute that decided it: add --board-minute REF",
                         refusal=True)

    def existing(self, record_id: str) -> dict[str, Any] | None:
        return self.world.people.get(record_id)

    def remember(self, record: dict[str, Any]) -> None:
        self.world.people[record["id"]] = record

    def finish(self) -> list[Problem]:
        return [Problem(self.kind, number, "manager",
                        f"{manager} is not a person in the register or in this file")
                for number, manager in self.managers if manager not in self.world.people]


class AccountsChecker(Checker):
    """Accounts: the same rules as `account add`."""

    kind = "accounts"

    def clean(self, record: dict[str, Any]) -> dict[str, Any] | None:
        entry = catalogue.platform(record["platform"])
        access = record.get("access") or entry.default_access
        method = record.get("mfa_method") or "unknown"
        status = record.get("status") or "active"
        verified = self.date("mfa_verified_on", record.get("mfa_verified_on"))
        cleaned = {
            "id": record["id"], "platform": entry.id,
            "handle": self.text("handle", record["handle"], 200),
            "url": self.text("url", record.get("url")),
            "purpose": self.text("purpose", record["purpose"]), "owner": record["owner"],
            "kind": record.get("kind") or entry.kind, "access": access, "mfa_method": method,
            "mfa_verified_on": verified if verified or method == "unknown"
            else self.context.today,
            "recovery_email": self.checked("recovery_email", validate.email,
                                           record.get("recovery_email")),
            "recovery_phone": self.checked("recovery_phone", validate.phone,
                                           record.get("recovery_phone")),
            "overseer": record.get("overseer"), "status": status,
            "archived_at": self.moment("archived_at", record.get("archived_at")),
        }
        if access == "delegated" and not entry.delegated_access:
            self.problem("access", f"{entry.name} gives no per-person roles on an "
                                   "organisation's account; use shared-login")
        if method == "unknown" and verified:
            self.problem("mfa_verified_on", "an account whose MFA is unknown has no date it "
                                            "was checked")
        if status == "archived" and cleaned["archived_at"] is None:
            cleaned["archived_at"] = self.context.at
        if status == "active" and cleaned["archived_at"]:
            self.problem("archived_at", "only an archived account has an archived date")
        self.person("owner", cleaned["owner"])
        self.person("overseer", cleaned["overseer"])
        if self.world.accounts.get(cleaned["id"]) is None:
            self._no_self_assignment(cleaned)
        return cleaned

    def _no_self_assignment(self, cleaned: dict[str, Any]) -> None:
        me = self.context.operator
        if me is None:
            return
        for field in rules.ACCOUNTABLE_FIELDS:
            if problem := rules.self_assignment(me, field, cleaned[field]):
                self.problem(field, f"{problem}; another approver imports this row",
                             refusal=True)

    def existing(self, record_id: str) -> dict[str, Any] | None:
        return self.world.accounts.get(record_id)

    def remember(self, record: dict[str, Any]) -> None:
        self.world.accounts[record["id"]] = record


class NumberedChecker(Checker):
    """Rows with ids like D-0001 and G-0001: new rows without one get the next number after
    every number in the register and in the file, never beyond MAX_NUMBER (past it, the
    lowest number not used, as accessgov.db.queries.records.next_number does)."""

    prefix = ""

    def __init__(self, world: World, context: ImportContext, section: reading.Section) -> None:
        super().__init__(world, context, section)
        given = (validate.id_number(record_id, self.prefix) for record_id in section.ids())
        # A number beyond the range (imported before imports were bounded, or written behind
        # the log) is never counted from: the next would pass it.
        self.used = {number for number in (*self.numbers(), *given)
                     if isinstance(number, int) and 0 <= number <= MAX_NUMBER}
        self.next_number = max(self.used, default=0) + 1
        self.lowest_free = 1

    def numbers(self) -> set[int]:
        """The numbers already used in the register."""
        raise NotImplementedError

    def taken(self, number: int) -> None:
        """An accepted new row has this number: the next new row gets another."""
        self.used.add(number)
        self.next_number = max(self.next_number, number + 1)

    def identify(self, record_id: str | None) -> tuple[str, int]:
        """The row's id and number, a new one when it has none."""
        if record_id is None:  # the number is taken when the row is accepted
            number = self._fresh()
            return f"{self.prefix}-{number:04d}", number
        given = validate.id_number(record_id, self.prefix)
        assert given is not None  # the schema's pattern
        return record_id, given

    def _fresh(self) -> int:
        if self.next_number <= MAX_NUMBER:
            return self.next_number
        while self.lowest_free in self.used:
            self.lowest_free += 1
        if self.lowest_free > MAX_NUMBER:  # a billion rows: never in practice
            raise InputError(f"every {self.kind} number up to {MAX_NUMBER:,} is used")
        return self.lowest_free


class DelegationsChecker(NumberedChecker):
    """Delegations: only the CEO imports them, as only the CEO gives them."""

    kind = "delegations"
    prefix = "D"

    def numbers(self) -> set[int]:
        return {row["num"] for row in self.world.delegations.values()}

    def clean(self, record: dict[str, Any]) -> dict[str, Any] | None:
        delegation_id, number = self.identify(record.get("id"))
        accounts = sorted(set(record.get("accounts") or []))
        cleaned = {
            "id": delegation_id, "delegate": record["delegate"],
            "all_accounts": bool(record.get("all_accounts")), "accounts": accounts,
            "granted_by": record["granted_by"],
            "valid_from": self.date("valid_from", record["valid_from"]),
            "valid_until": self.date("valid_until", record.get("valid_until")),
            "created_at": self.moment("created_at", record.get("created_at")) or
            self.context.at,
            "revoked_by": record.get("revoked_by"),
            "revoked_at": self.moment("revoked_at", record.get("revoked_at")),
            "revoke_reason": self.text("revoke_reason", record.get("revoke_reason")),
        }
        if cleaned["all_accounts"] == bool(accounts):
            self.problem("accounts", "give either all_accounts (yes) or a list of accounts")
        for account in accounts:
            if account not in self.world.accounts:
                self.problem("accounts", f"{account} is not an account in the register")
        self._people_rules(cleaned)
        self._dates(cleaned)
        if self.existing(delegation_id) is None:
            self._new_rules(cleaned, number)
        cleaned["_num"] = number
        return cleaned

    def _people_rules(self, cleaned: dict[str, Any]) -> None:
        delegate = self.person("delegate", cleaned["delegate"])
        if delegate and is_approver_category(delegate["category"]):
            self.problem("delegate", f"{delegate['id']} is {a_category(delegate['category'])} and "
                                     "approves already")
        giver = self.person("granted_by", cleaned["granted_by"])
        if giver and giver["category"] != "ceo":
            self.problem("granted_by", f"{giver['id']} is not the CEO; only the CEO gives "
                                       "delegations")
        self.person("revoked_by", cleaned["revoked_by"])

    def _dates(self, cleaned: dict[str, Any]) -> None:
        if cleaned["valid_until"] and cleaned["valid_from"] and \
                cleaned["valid_until"] < cleaned["valid_from"]:
            self.problem("valid_until", "is before valid_from")
        revoked = [cleaned[k] is not None for k in ("revoked_by", "revoked_at",
                                                     "revoke_reason")]
        if any(revoked) and not all(revoked):
            self.problem("revoked_by", "a revoked delegation names who revoked it, when and "
                                       "why (revoked_by, revoked_at, revoke_reason)")

    def _new_rules(self, cleaned: dict[str, Any], number: int) -> None:
        me = self.context.operator
        if me is not None and me["category"] != "ceo":
            self.problem(None, "only the CEO imports delegations, as only the CEO gives them",
                         refusal=True)
        elif me is not None and cleaned["delegate"] == me["id"]:
            self.problem("delegate", f"{me['id']} cannot give themselves a delegation",
                         refusal=True)
        if number in self.numbers():
            self.problem("id", f"the number of {cleaned['id']} is already used")
        if not rules.delegation_current(cleaned, self.context.today):
            return
        delegate = self.world.people.get(cleaned["delegate"])
        if delegate and delegate["status"] != "active":
            self.problem("delegate", f"{delegate['id']} has left and cannot hold a delegation")
        held = [other for other in self.world.delegations.values()
                if other["delegate"] == cleaned["delegate"]]
        other = rules.overlapping_delegation(held, cleaned, self.context.today)
        if other is not None:
            self.problem("delegate", f"{cleaned['delegate']} already holds delegation "
                                     f"{other['id']} for those dates")

    def existing(self, record_id: str) -> dict[str, Any] | None:
        found = self.world.delegations.get(record_id)
        return None if found is None else {k: v for k, v in found.items() if k != "num"}

    def remember(self, record: dict[str, Any]) -> None:
        self.world.delegations[record["id"]] = record | {"num": record["_num"]}
        self.taken(record["_num"])


class GrantsChecker(NumberedChecker):
    """Grants: records of past approvals, checked as `grant add` would check them."""

    kind = "grants"
    prefix = "G"

    def __init__(self, world: World, context: ImportContext, section: reading.Section) -> None:
        super().__init__(world, context, section)
        self.roles: dict[tuple[str, str], str | None] = {}  # (platform, role) -> problem

    def numbers(self) -> set[int]:
        return self.world.grant_nums

    def clean(self, record: dict[str, Any]) -> dict[str, Any] | None:
        grant_id, number = self.identify(record.get("id"))
        status = record.get("status") or "active"
        cleaned = {
            "id": grant_id, "person": record["person"], "account": record["account"],
            "role": record["role"], "reason": self.text("reason", record["reason"]),
            "status": status, "expires": self.date("expires", record.get("expires")),
            "requested_by": record.get("requested_by") or record.get("decided_by")
            or self.operator or record["person"],
            "requested_at": self.moment("requested_at", record.get("requested_at")),
            "decided_by": record.get("decided_by"), "authority": record.get("authority"),
            "decided_at": self.moment("decided_at", record.get("decided_at")),
            "board_minute": self.text("board_minute", record.get("board_minute")),
            "revoked_by": record.get("revoked_by"),
            "revoked_at": self.moment("revoked_at", record.get("revoked_at")),
            "revoke_reason": self.text("revoke_reason", record.get("revoke_reason")),
        }
        cleaned["requested_at"] = cleaned["requested_at"] or cleaned["decided_at"] or \
            self.context.at
        person = self.person("person", cleaned["person"])
        account = self.world.accounts.get(cleaned["account"])
        if account is None:
            self.problem("account", f"{cleaned['account']} is not an account in the register")
        self.person("requested_by", cleaned["requested_by"])
        self.person("revoked_by", cleaned["revoked_by"])
        self._decision(cleaned)
        self._revocation(cleaned)
        if account is not None:
            self._role(cleaned, account)
        if status in ("active", "pending"):
            self._live(cleaned, person, account)
        self._order(cleaned)
        if grant_id not in self.world.grant_ids and number in self.world.grant_nums:
            self.problem("id", f"the number of {grant_id} is already used by another grant")
        cleaned["_num"] = number
        return cleaned

    def _decision(self, cleaned: dict[str, Any]) -> None:
        status = cleaned["status"]
        given = {key: cleaned[key] for key in ("decided_by", "authority", "decided_at")}
        if status == "pending":
            for key, value in given.items():
                if value is not None:
                    self.problem(key, "a pending request has no decision yet")
            return
        if status == "revoked" and not any(given.values()):
            return  # a request withdrawn before anyone decided it
        for key, value in given.items():
            if value is None:
                self.problem(key, "is required: an imported grant names who decided it, "
                                  "with what authority, and when")
        if self.operator is not None and cleaned["person"] == self.operator:
            self.problem("person", f"{self.operator} cannot import access for themselves; "
                                   "another approver imports this row", refusal=True)
        elif self.operator is not None and status == "active":
            # The importer approves it: the proxy rule of `grant add` holds for them.
            problem = proxy_problem(self.operator, self.context.placed, (cleaned["person"],),
                                    cleaned["requested_by"])
            if problem:
                self.problem("person", problem, refusal=True)
        approver = self.person("decided_by", cleaned["decided_by"])
        if approver is None:
            return
        if approver["id"] == cleaned["person"]:
            self.problem("decided_by", "nobody approves their own access")
        day = (cleaned["decided_at"] or "")[:10]
        if approver["leave_date"] and day and day > approver["leave_date"]:
            self.problem("decided_at", f"{approver['id']} had left by then (on "
                                       f"{approver['leave_date']})")
        authority = cleaned["authority"] or ""
        if authority.startswith("delegation:"):
            self._delegated(cleaned, authority.removeprefix("delegation:"), day)
        elif authority and status == "active" and \
                not is_approver_category(approver["category"]):
            self.problem("authority", f"{approver['id']} is "
                                      f"{a_category(approver['category'])}, not the CEO or a "
                                      f"trustee, so cannot have approved it as {authority}")

    def _delegated(self, cleaned: dict[str, Any], delegation_id: str, day: str) -> None:
        delegation = self.world.delegations.get(delegation_id)
        if delegation is None:
            self.problem("authority", f"{delegation_id} is not a delegation in the register")
            return
        if delegation["delegate"] != cleaned["decided_by"]:
            self.problem("authority", f"{delegation_id} was given to "
                                      f"{delegation['delegate']}, not {cleaned['decided_by']}")
        if not delegation["all_accounts"] and cleaned["account"] not in delegation["accounts"]:
            self.problem("authority", f"{delegation_id} does not cover {cleaned['account']}")
        revoked = (delegation["revoked_at"] or "9999")[:10]
        if day and not (rules.delegation_in_force(delegation | {"revoked_at": None}, day)
                        and day <= revoked):
            self.problem("decided_at", f"{delegation_id} was not in force on {day}")

    def _revocation(self, cleaned: dict[str, Any]) -> None:
        fields = ("revoked_by", "revoked_at", "revoke_reason")
        if cleaned["status"] == "revoked":
            for field in fields:
                if cleaned[field] is None:
                    self.problem(field, "is required for a revoked grant")
        else:
            for field in fields:
                if cleaned[field] is not None:
                    self.problem(field, f"only a revoked grant has it (status is "
                                        f"{cleaned['status']})")

    def _role(self, cleaned: dict[str, Any], account: Row) -> None:
        if account["access"] != "delegated":
            return
        key = (account["platform"], cleaned["role"])
        if key not in self.roles:
            try:
                catalogue.platform(account["platform"]).role_word(cleaned["role"])
                self.roles[key] = None
            except InputError as error:
                self.roles[key] = str(error)
        if self.roles[key]:
            self.problem("role", str(self.roles[key]))

    def _live(self, cleaned: dict[str, Any], person: Row | None, account: Row | None) -> None:
        for who in (person, None), (None, account):
            if problem := rules.cannot_hold(*who):
                self.problem(*problem)
        if cleaned["status"] == "active" and cleaned["expires"] and \
                cleaned["expires"] < self.context.today:
            self.problem("expires", f"{cleaned['expires']} has passed: import it with status "
                                    "expired")
        other = self.world.live.get((cleaned["person"], cleaned["account"]))
        if other is not None and other != cleaned["id"]:
            self.problem("account", f"{cleaned['person']} already has grant {other} on "
                                    f"{cleaned['account']}")

    def _order(self, cleaned: dict[str, Any]) -> None:
        requested, decided, revoked = (cleaned["requested_at"], cleaned["decided_at"],
                                       cleaned["revoked_at"])
        if decided and requested and decided < requested:
            self.problem("decided_at", "is before the request (requested_at)")
        if revoked and decided and revoked < decided:
            self.problem("revoked_at", "is before the decision (decided_at)")

    def existing(self, record_id: str) -> dict[str, Any] | None:
        if record_id not in self.world.grant_ids:
            return None  # neither in the register nor earlier in the file
        return grant_by_id(self.world.register, record_id, self.context.today)

    def remember(self, record: dict[str, Any]) -> None:
        self.world.grant_ids.add(record["id"])
        self.world.grant_nums.add(record["_num"])
        self.taken(record["_num"])
        if record["status"] in ("active", "pending"):
            self.world.live[(record["person"], record["account"])] = record["id"]


def _moment(value: str, now: dt.datetime) -> tuple[str | None, str | None]:
    """(the time as stored, None) or (None, what is wrong with it)."""
    text = value if "T" in value else f"{value}T00:00:00Z"
    try:
        moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None, f"{value} is not a real date and time"
    if moment > now:
        return text, f"{value} is in the future"
    return text, None


CHECKERS: dict[str, type[Checker]] = {"people": PeopleChecker, "accounts": AccountsChecker,
                                      "delegations": DelegationsChecker,
                                      "grants": GrantsChecker}
