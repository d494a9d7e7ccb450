"""The policy checks' building blocks: a rule, a finding, and what every check reads.

A rule family is one module in this package with `RULES` (its rules) and `findings(context)`
(what it finds). `accessgov.governance.checks.registry.FAMILIES` lists the families; a new family is
one new module and one line there.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import Protocol

from accessgov.db.queries import findings as rows
from accessgov.db.register import Register, Row
from accessgov.governance.checks.requirements import CYBER_ESSENTIALS
from accessgov.secrets.base import SecretBackend

SEVERITIES = ("low", "medium", "high")

# Headings of InterAct's Social Media Policy that the checks enforce, exactly as they stand
# on a line of their own in the policy document (a test holds every rule to that).
ACCESS = "Access"
MESSAGING = "WhatsApp, Messaging Apps and Group Chats"
MONITORING = "Monitoring and Reviewing"
REPORTING = "Reporting Non-Compliance"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One thing a rule found: what it is about, in words a trustee understands.

    `related` names the grant, person and account it concerns (for the evidence pack, which
    shows each item's findings); it is not part of the finding's printed form.
    """

    rule: str
    severity: str
    subject: str
    message: str
    heading: str
    related: frozenset[str] = frozenset()
    title: str = ""  # the rule's title: what its code means
    cyber_essentials: str | None = None  # the requirement it gives evidence for

    def as_dict(self) -> dict[str, str | None]:
        """The printed form (schemas/check.schema.json)."""
        return {"rule": self.rule, "title": self.title, "severity": self.severity,
                "subject": self.subject, "message": self.message, "heading": self.heading,
                "cyber_essentials": self.cyber_essentials}


@dataclasses.dataclass(frozen=True)
class PolicyRule:
    """One policy rule: its id, how serious a breach is, and the policy heading it enforces."""

    id: str
    severity: str
    title: str  # what it finds, e.g. "a grant nobody approved"
    heading: str

    def finding(self, subject: str, message: str, *related: str | None) -> Finding:
        """A finding of this rule about `subject`; `related` ids: its grant, person, account."""
        ids = frozenset(value for value in (subject, *related) if value)
        return Finding(self.id, self.severity, subject, message, self.heading, ids,
                       self.title, CYBER_ESSENTIALS.get(self.id))

    def describe(self) -> dict[str, str | None]:
        """The rule in words, for `check --list-rules`."""
        return {"rule": self.id, "severity": self.severity, "title": self.title,
                "heading": self.heading, "cyber_essentials": CYBER_ESSENTIALS.get(self.id)}


class Family(Protocol):
    """A module of rules (see the module docstring)."""

    @property
    def RULES(self) -> tuple[PolicyRule, ...]: ...  # the module's constant, read-only

    def findings(self, context: Context) -> Iterable[Finding]: ...


@dataclasses.dataclass
class Context:
    """What the checks read: the register as of `today`, and the secret store if asked.

    `store` is None when the store is not to be checked; `store_problem` says why it could
    not be (unreachable, locked...), which the store family reports as a finding.
    """

    register: Register
    today: str
    store: SecretBackend | None = None
    store_problem: str | None = None

    @functools.cached_property
    def settings(self) -> dict[str, str]:
        """The register's settings."""
        return self.register.settings()

    @functools.cached_property
    def people(self) -> dict[str, Row]:
        """id -> name, email, category and status of everyone in the register."""
        return {row["id"]: row for row in rows.people(self.register)}

    def name(self, person: str | None) -> str:
        """`Jo Doe (jdoe)`, or the id alone if it is not a person in the register."""
        found = self.people.get(person or "")
        return f"{found['name']} ({person})" if found else str(person)

    def days_before(self, days: int) -> str:
        """The date `days` days before today."""
        import datetime as dt

        return (dt.date.fromisoformat(self.today) - dt.timedelta(days=days)).isoformat()
