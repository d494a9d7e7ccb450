"""Approvals: every live grant was approved, by someone who had the authority to approve it,
independently of the person it gives access to.

"Access to official InterAct social media accounts is restricted to authorised contributors
approved by the CEO or Board of Trustees" (policy, "Access"): a grant nobody approved, one
approved by someone without authority, by the grantee themselves, or by someone the grantee
put in place (a "sock puppet" chain) does not meet it.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Iterator

from accessgov.common.words import a_category, count
from accessgov.db.queries import findings as rows
from accessgov.db.queries import grants as rows_of_grants
from accessgov.db.register import Row
from accessgov.governance.checks.base import ACCESS, Context, Finding, PolicyRule
from accessgov.identity.rules import APPROVER_CATEGORIES, delegation_in_force

UNAPPROVED = PolicyRule("ACC-001", "high", "a live grant that nobody approved", ACCESS)
NO_AUTHORITY = PolicyRule("ACC-002", "high", "a grant approved by someone without the authority "
                          "to approve it at the time", ACCESS)
SELF_APPROVED = PolicyRule("ACC-003", "high", "a grant approved by the person it gives access to",
                           ACCESS)
SOCK_PUPPET = PolicyRule("ACC-004", "high", "a grant approved or kept in a review by someone the "
                         "grantee put in place (added, imported, made an approver, reinstated, "
                         "delegated to or enrolled in MFA: a sock puppet chain)", ACCESS)
APPROVER_WITHOUT_MFA = PolicyRule("ACC-005", "medium", "an approver who has not enrolled MFA",
                                  ACCESS)
ORPHANED_DELEGATION = PolicyRule("ACC-006", "high", "a delegation still in force though the CEO "
                                 "who gave it has left", ACCESS)
UNCONFIRMED_CLAIM = PolicyRule("ACC-007", "medium", "a live grant imported as approved by "
                               "someone other than the importer, who has not confirmed it",
                               ACCESS)
RULES = (UNAPPROVED, NO_AUTHORITY, SELF_APPROVED, SOCK_PUPPET, APPROVER_WITHOUT_MFA,
         ORPHANED_DELEGATION, UNCONFIRMED_CLAIM)


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family.

    A register may hold 100,000 live grants, nearly all approved by a handful of people on
    an unchanging authority: one pass over them (`approval_pairs`) says which approvals could
    break a rule (none recorded; by the grantee; on an authority that did not hold
    throughout; by someone the grantee put in place), and only those are read one by one."""
    pairs = rows.approval_pairs(context.register, context.today)
    if any(pair["approver"] is None for pair in pairs):
        yield from _unapproved(context)
    if any(pair["own"] for pair in pairs):
        yield from _self_approved(context)
    pairs = [pair for pair in pairs if pair["approver"] is not None]
    history = _History(context)
    yield from _without_authority(context, history, pairs)
    yield from _sock_puppets(context, history, {pair["approver"] for pair in pairs})
    yield from _kept_by_sock_puppets(context, history)
    yield from _approvers_without_mfa(context)
    yield from _orphaned_delegations(context)
    yield from _unconfirmed_claims(context)


def _unconfirmed_claims(context: Context) -> Iterator[Finding]:
    """One finding per person named and importer: an import's file can name anyone."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows_of_grants.unconfirmed_live_claims(context.register, context.today):
        groups[(row["claimed_by"], row["imported_by"])].append(row)
    for (named, importer), grants in groups.items():
        ids = [grant["id"] for grant in grants]
        shown = ", ".join(ids[:10]) + (f" and {count(len(ids) - 10, 'more')}"
                                       if len(ids) > 10 else "")
        these = "it" if len(ids) == 1 else "them"
        yield UNCONFIRMED_CLAIM.finding(
            named, f"{count(len(ids), 'live grant')} imported by {context.name(importer)} "
            f"{'is' if len(ids) == 1 else 'are'} recorded as approved by {context.name(named)}, "
            f"who has not confirmed {these} ({shown}): {importer} approved {these} on "
            f"importing; {named} confirms with 'accessgov grant confirm --all --as {named}', "
            f"or an approver reviews {these}.", *(ids if len(ids) == 1 else ()))


def _unapproved(context: Context) -> Iterator[Finding]:
    for grant in rows.unapproved(context.register, context.today):
        yield UNAPPROVED.finding(
            grant["id"],
            f"{grant['id']} gives {context.name(grant['person'])} {grant['role']} access to "
            f"{grant['account']}, but there is no record of anyone approving it: revoke it, "
            "or have the CEO, a trustee or a delegate grant it properly.",
            grant["person"], grant["account"])


def _self_approved(context: Context) -> Iterator[Finding]:
    for approval in rows.self_approved(context.register, context.today):
        yield SELF_APPROVED.finding(
            approval["id"], f"{_what(context, approval)} was approved by the grantee "
            "themselves: another approver must decide it (revoke it and grant it again).",
            approval["person"], approval["account"])


def _what(context: Context, approval: Row) -> str:
    return (f"{approval['id']} ({context.name(approval['person'])}, {approval['role']} on "
            f"{approval['account']})")


def _without_authority(context: Context, history: _History, pairs: list[Row]
                       ) -> Iterator[Finding]:
    for pair in pairs:
        if history.always_held(pair["approver"], pair["authority"]):
            continue
        for approval in rows.approvals_by(context.register, context.today, pair["approver"],
                                          pair["authority"]):
            problem = history.authority_problem(approval)
            if problem:
                yield NO_AUTHORITY.finding(
                    approval["id"], f"{_what(context, approval)} was approved by "
                    f"{context.name(approval['approver'])} as '{approval['authority']}', but "
                    f"{problem}: have an approver review it.",
                    approval["person"], approval["account"])


def _sock_puppets(context: Context, history: _History, approvers: set[str]
                  ) -> Iterator[Finding]:
    pairs = sorted(history.candidates(approvers))
    if not pairs:
        return
    for approval in rows.approvals_between(context.register, context.today, pairs):
        grantee, approver = approval["person"], approval["approver"]
        link = history.influence(grantee, approver, approval["at"])
        if link:
            yield SOCK_PUPPET.finding(
                approval["id"], f"{_what(context, approval)} was approved by "
                f"{context.name(approver)}, but {grantee} had {link}: the approval is not "
                "independent of the person it benefits; have another approver review it.",
                grantee, approval["account"])


def _kept_by_sock_puppets(context: Context, history: _History) -> Iterator[Finding]:
    """Review items kept by someone the grantee put in place."""
    for decision in rows.review_decisions(context.register):
        grantee, decider = decision["person"], decision["decided_by"]
        if decision["decision"] != "keep" or grantee == decider:
            continue
        link = history.influence(grantee, decider, decision["decided_at"])
        if link:
            yield SOCK_PUPPET.finding(
                decision["grant_id"], f"{decision['grant_id']} ({context.name(grantee)} on "
                f"{decision['account']}) was kept in the {decision['campaign']} access review "
                f"(item {decision['item']}) by {context.name(decider)}, but {grantee} had "
                f"{link}: the decision is not independent of the person it benefits; have "
                "another approver review it.", grantee, decision["account"])


def _orphaned_delegations(context: Context) -> Iterator[Finding]:
    for delegation in rows.delegations_from_leavers(context.register, context.today):
        left = f" on {delegation['leave_date']}" if delegation["leave_date"] else ""
        yield ORPHANED_DELEGATION.finding(
            delegation["id"], f"Delegation {delegation['id']} lets "
            f"{context.name(delegation['delegate'])} approve access, but "
            f"{context.name(delegation['granted_by'])}, who gave it, left{left}: revoke it with "
            f"'accessgov delegate revoke {delegation['id']}' (the new CEO may give a new one).",
            delegation["delegate"])


def _approvers_without_mfa(context: Context) -> Iterator[Finding]:
    for person in rows.approvers_and_delegates(context.register, context.today):
        is_board = person["category"] in APPROVER_CATEGORIES
        if person["mfa"] == "confirmed" or not (is_board or person["delegations"]):
            continue
        role = "the CEO" if person["category"] == "ceo" else \
            "a trustee" if is_board else "a delegate of the CEO"
        yield APPROVER_WITHOUT_MFA.finding(
            person["id"], f"{context.name(person['id'])} is {role} and may approve access, "
            f"but has not enrolled MFA (theirs is {person['mfa']}), so cannot prove who they "
            f"are: a CEO or trustee invites them with 'accessgov mfa enrol {person['id']}', "
            "then they enrol themselves.")


class _History:
    """What the audit log and the register say about approvers over time: their category,
    their delegations, and who added, promoted or enrolled them."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.categories: dict[str, list[tuple[str, str]]] = defaultdict(list)
        # approver -> [(when, who, what they did)]: the acts that put the approver in place.
        self.acts: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        # approver -> [(when, enroller or None for a reset)], in order.
        self.enrolments: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        self._times: dict[str, list[str]] = {}
        self._read_events()
        self._read_enrolments()
        self.delegations = {row["id"]: row for row in rows.delegations(context.register)}
        self.scopes: dict[str, set[str]] = defaultdict(set)
        for row in rows.delegation_scopes(context.register):
            self.scopes[row["delegation"]].add(row["account"])

    def _read_events(self) -> None:
        for event in rows.approver_history(self.context.register):
            self._read_event(event, json.loads(event["details"]))

    def _read_event(self, event: Row, details: dict[str, object]) -> None:
        at, actor, action, subject = event["at"], event["actor"], event["action"], \
            event["subject"]
        if action in ("person.add", "person.import") and \
                isinstance(details.get("category"), str):
            self.categories[subject].append((at, str(details["category"])))
            how = "added" if action == "person.add" else "imported"
            self.acts[subject].append((at, actor, f"{how} {subject} to the register"))
        elif action == "person.reinstate":
            self.acts[subject].append((at, actor, f"reinstated {subject}"))
        elif action == "person.update":
            after = details.get("after")
            category = after.get("category") if isinstance(after, dict) else None
            if isinstance(category, str):
                self.categories[subject].append((at, category))
                if category in APPROVER_CATEGORIES:
                    self.acts[subject].append((at, actor, f"made {subject} "
                                                          f"{_article(category)}"))
        elif action == "mfa.enrol":
            self.enrolments[subject].append((at, actor))
        elif action == "mfa.reset":
            self.enrolments[subject].append((at, None))
        elif action in ("delegation.add", "delegation.import") and \
                isinstance(details.get("delegate"), str):
            delegate = str(details["delegate"])
            self.acts[delegate].append((at, actor, f"given {delegate} delegation {subject}"))

    def _read_enrolments(self) -> None:
        # The MFA record names whoever enrolled the seed in use, even where no event says so.
        for row in rows.enrolments(self.context.register):
            self.enrolments[row["person"]].append((row["enrolled_at"], row["enrolled_by"]))
        for entries in self.enrolments.values():
            entries.sort(key=lambda entry: entry[0])

    def always_held(self, approver: str, authority: str) -> bool:
        """Whether `approver` held `authority` (a category) throughout, so that none of their
        approvals on it needs looking at: they never changed category and have not left."""
        person = self.context.people.get(approver)
        if authority not in APPROVER_CATEGORIES or person is None or \
                person["status"] != "active":
            return False
        return {category for _, category in self.categories.get(approver, [])} <= {authority} \
            and person["category"] == authority

    def candidates(self, approvers: set[str]) -> set[tuple[str, str]]:
        """(grantee, approver) pairs where the grantee added, promoted, delegated to or
        enrolled the approver at some time: the only approvals that can be sock puppets."""
        found = set()
        for approver in approvers:
            actors = {actor for _, actor, _ in self.acts.get(approver, ())}
            actors |= {actor for _, actor in self.enrolments.get(approver, ()) if actor}
            found |= {(actor, approver) for actor in actors
                      if actor != approver and actor in self.context.people}
        return found

    def category_at(self, person: str, at: str) -> str | None:
        """The person's category at `at` (their first known one if the log starts later)."""
        timeline = self.categories.get(person)
        if not timeline:
            known = self.context.people.get(person)
            return known["category"] if known else None
        if person not in self._times:
            self._times[person] = [when for when, _ in timeline]
        index = bisect.bisect_right(self._times[person], at)
        return timeline[max(index - 1, 0)][1]

    def authority_problem(self, approval: Row) -> str | None:
        """Why the approval's recorded authority did not hold when it was given, if it did
        not."""
        approver, authority, at = approval["approver"], approval["authority"], approval["at"]
        person = self.context.people.get(approver)
        if person is None:
            return f"{approver} is not a person in the register"
        if person["status"] == "left" and person["leave_date"] and \
                person["leave_date"] < at[:10]:
            return f"{approver} had left on {person['leave_date']}"
        if authority in APPROVER_CATEGORIES:
            category = self.category_at(approver, at)
            if category != authority:
                return f"{approver} was {_article(category)} then, not {_article(authority)}"
            return None
        if authority.startswith("delegation:"):
            return self._delegation_problem(authority.removeprefix("delegation:"), approval)
        return f"'{authority}' is not an approver's authority (the CEO, a trustee or a delegate)"

    def _delegation_problem(self, delegation_id: str, approval: Row) -> str | None:
        delegation = self.delegations.get(delegation_id)
        if delegation is None or delegation["delegate"] != approval["approver"]:
            return f"{approval['approver']} holds no delegation {delegation_id}"
        day = approval["at"][:10]
        revoked_before = delegation["revoked_at"] and delegation["revoked_at"] <= approval["at"]
        if revoked_before or not delegation_in_force(delegation | {"revoked_at": None}, day):
            return f"delegation {delegation_id} was not in force on {day}"
        if not delegation["all_accounts"] and \
                approval["account"] not in self.scopes[delegation_id]:
            return f"delegation {delegation_id} does not cover {approval['account']}"
        return None

    def influence(self, grantee: str, approver: str, at: str) -> str | None:
        """How `grantee` put `approver` in place before `at`, if they did."""
        for when, actor, what in self.acts.get(approver, ()):
            if actor == grantee and when <= at:
                return what
        if self._enroller_at(approver, at) == grantee:
            return f"enrolled {approver}'s MFA (and so could make their codes)"
        return None

    def _enroller_at(self, approver: str, at: str) -> str | None:
        """Who enrolled the MFA seed the approver was using at `at` (None: themselves, a
        reset since, or nobody)."""
        enroller = None
        for when, actor in self.enrolments.get(approver, ()):
            if when > at:
                break
            enroller = actor
        return enroller if enroller != approver else None


def _article(category: str | None) -> str:
    return "not in the register" if category is None else a_category(category)
