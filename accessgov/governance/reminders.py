"""`accessgov remind`: what is due in the next days or overdue, for each person who must act.

Reviews fall due, grants run out, leavers' checklists and incidents stay open, passwords
age: nobody is told unless someone looks. Each reminder goes to whoever must act on it, owners and
approvers only: the CEO and trustees for reviews and the policy's annual review, an
account's owner for what concerns their account (the Board when the owner has left), and
nobody gets a message with nothing in it. `--send` e-mails them (accessgov.governance.mail)
and records each message, so the same reminder is not sent twice in a day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from typing import Any

from accessgov.db.queries import findings, reminders
from accessgov.db.register import Register
from accessgov.governance.checks.credentials import max_age_of
from accessgov.governance.review import quarter_of
from accessgov.operation import Operation

DEFAULT_DAYS = 14
POLICY_REVIEW_DAYS = 365
INCIDENT_DAYS = 7  # check's INC-001: an incident still open a week after it was reported
SENT = "reminder.sent"


@dataclasses.dataclass(frozen=True)
class Task:
    """One thing someone must do: what, by when, and the command that does it."""

    what: str
    due: str
    command: str


@dataclasses.dataclass
class Recipient:
    """Someone with tasks due, and their tasks."""

    person: str
    name: str
    email: str
    tasks: list[Task]

    @property
    def digest(self) -> str:
        """The same tasks make the same digest: what `--send` sends at most once a day."""
        text = "\n".join(f"{task.due}\t{task.what}" for task in sorted(
            self.tasks, key=lambda task: (task.due, task.what)))
        return hashlib.sha256(text.encode()).hexdigest()

    def as_dict(self, today: str) -> dict[str, Any]:
        return {"person": self.person, "name": self.name, "email": self.email,
                "tasks": [{"what": task.what, "due": task.due,
                           "overdue": task.due < today, "command": task.command}
                          for task in self.tasks]}


def due(register: Register, today: str, days: int = DEFAULT_DAYS) -> list[Recipient]:
    """Everyone with something due by `today` + `days` (or overdue), with what it is."""
    until = (dt.date.fromisoformat(today) + dt.timedelta(days=days)).isoformat()
    board = [row["id"] for row in reminders.board(register)]
    tasks: dict[str, list[Task]] = defaultdict(list)

    def tell(owner: str | None, task: Task) -> None:
        for person in ([owner] if owner in active else board):
            tasks[str(person)].append(task)

    active = _active(register)
    for task in _board_tasks(register, today, until):
        for person in board:
            tasks[person].append(task)
    for grant in reminders.expiring_grants(register, today, until):
        tell(grant["owner"], Task(
            f"{grant['id']}: {grant['person']}'s {grant['role']} access to {grant['account']} "
            "ends on its last day: renew it with a new grant, or let it end and remove them "
            "on the platform", grant["expires"], f"accessgov grant show {grant['id']}"))
    for item in reminders.open_offboarding_items(register):
        tell(item["owner"], Task(
            f"{item['case_id']} item {item['item']}: {item['leaver']} left; "
            f"{item['action']}" + (f" on {item['account']}" if item["account"] else ""),
            item["since"], f"accessgov offboard show {item['leaver']}"))
    for item in reminders.open_incident_items(register):
        owner = item["owner"] if item["kind"] not in ("decision", "tell") else None
        tell(owner, Task(
            f"{item['incident_id']} item {item['item']}: {item['action']}",
            (dt.date.fromisoformat(item["opened"])
             + dt.timedelta(days=INCIDENT_DAYS)).isoformat(),
            f"accessgov incident show {item['incident_id']}"))
    max_age = max_age_of(register.settings())
    oldest = (dt.date.fromisoformat(until) - dt.timedelta(days=max_age)).isoformat()
    for credential in reminders.credentials_due(register, oldest):
        rotate_by = (dt.date.fromisoformat(credential["changed"])
                     + dt.timedelta(days=max_age)).isoformat()
        tell(credential["owner"], Task(
            f"{credential['account']}'s {credential['kind']} was last changed on "
            f"{credential['changed']}: rotate it (policy: every {max_age} days)", rotate_by,
            f"accessgov cred rotate {credential['account']} --kind {credential['kind']}"))
    people = {row["id"]: row for row in reminders.people_by_id(register, sorted(tasks))}
    found = []
    for person, their in sorted(tasks.items()):
        row = people.get(person)
        if row is None or row["status"] != "active" or not their:
            continue
        found.append(Recipient(person, row["name"], row["email"],
                               sorted(their, key=lambda task: (task.due, task.what))))
    return found


def _active(register: Register) -> set[str]:
    return {row["id"] for row in findings.people(register) if row["status"] == "active"}


def _board_tasks(register: Register, today: str, until: str) -> list[Task]:
    """Reviews and the policy's annual review: the CEO's and the trustees' to do."""
    tasks = []
    for campaign in reminders.open_reviews(register):
        if campaign["due"] <= until:
            tasks.append(Task(
                f"access review {campaign['id']}: {campaign['decided']} of "
                f"{campaign['items']} items decided; close it when all are",
                campaign["due"], f"accessgov review show {campaign['id']}"))
    quarter = quarter_of(today)
    end = _quarter_end(quarter)
    if end <= until and reminders.review_of(register, quarter) is None:
        tasks.append(Task(f"this quarter's access review ({quarter}) has not been started",
                          end, "accessgov review start"))
    last = findings.last_policy_review(register)
    next_review = ((dt.date.fromisoformat(last["reviewed_on"])
                    + dt.timedelta(days=POLICY_REVIEW_DAYS)).isoformat() if last else today)
    if next_review <= until:
        tasks.append(Task("the Social Media Policy's annual review" + (
            f" (last recorded {last['reviewed_on']})" if last else " (none recorded yet)"),
            next_review, "accessgov policy reviewed --date YYYY-MM-DD --board-minute REF"))
    return tasks


def _quarter_end(quarter: str) -> str:
    year, number = int(quarter[:4]), int(quarter[-1])
    first_of_next = dt.date(year + number // 4, number % 4 * 3 + 1, 1)
    return (first_of_next - dt.timedelta(days=1)).isoformat()


def not_sent_today(register: Register, recipients: list[Recipient], today: str
                   ) -> list[Recipient]:
    """Those whose reminder, as it stands, was not yet sent today."""
    sent = reminders.sent_on(register, today)
    return [recipient for recipient in recipients
            if (recipient.person, recipient.digest) not in sent]


def record_sent(op: Operation, sent: list[Recipient]) -> None:
    """Put each message sent on record (a system event: a scheduled job sends them)."""
    for recipient in sent:
        op.record_system(SENT, recipient.person, to=recipient.email,
                         tasks=len(recipient.tasks), digest=recipient.digest)
