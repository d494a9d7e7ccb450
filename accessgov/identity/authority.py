"""Who may do what: the one rule table every change is decided by, and enforced by.

Every command that changes the register names its action and its subject, and `authorise`
looks the action up in RULES: who may do it, whether the person concerned is barred, whether
it is allowed while the register is still being set up, and the conditions that need more
than a row lookup (a board minute for making an approver, nobody assigning an account to
themselves, no decisions by someone whose MFA the grantee enrolled). Each condition is an
object carrying its words and its check, and `authorise` runs every check itself, so no
command can forget one; `accessgov authority rules` prints the same objects.

Every row a decision rests on is read through the register's checked read path
(accessgov.db.trust), so a record written into the file behind the log grants nothing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from accessgov.db.queries import delegations as delegation_rows
from accessgov.db.queries import events, people
from accessgov.db.queries import grants as grant_rows
from accessgov.db.queries import mfa as mfa_rows
from accessgov.db.register import Register, Row
from accessgov.errors import InputError, Refused, Tampered
from accessgov.identity import rules
from accessgov.identity.rules import APPROVER_CATEGORIES, is_approver_category

if TYPE_CHECKING:  # read commands import this module for its rules: keep it light
    from accessgov.operation import Operation

__all__ = ["APPROVER_CATEGORIES", "RULES", "Attempt", "Authority", "authorise",
           "is_approver_category", "is_set_up", "mark_set_up", "setup_claimed"]

SETUP_MARKER = "audit/setup-complete"  # in the secret store, where the register cannot undo it

WHO = {
    "board": "the CEO or a trustee",
    "ceo": "the CEO",
    "approvers": "the CEO, a trustee, or a delegate whose delegation covers the account",
    "managers": "an approver for the account, or the account's owner",
    "holders": "someone with a live grant on the account, its owner, or the approver who "
               "stored the version now current",
    "self": "the person themselves",
    "approvers-or-self": "an approver for the account, or the person asking for their own access",
    "anyone": "anyone in scope of the policy who is still here",
}


@dataclasses.dataclass(frozen=True)
class Attempt:
    """What the operator is trying to do, with the facts the conditions read.

    `account`: the account the action touches (delegations' scope, ownership, grants);
    `concerned`: the person the action is about; `grant`: the grant decided on (whose it is,
    who asked for it); `promotes`: the change makes or unmakes a trustee or the CEO;
    `assigns`: who the change makes an account's owner, overseer or recovery contact;
    `becomes`: the category the person concerned is given (or given back); `benefits`: the
    people the decision is in favour of (the proxy rule: nobody acts for whoever put them in
    place; a grant's grantee is added by `authorise`); `minute_for`: why the
    change needs a board minute, when it does for another reason than making an approver.
    """

    action: str
    subject: str
    account: Row | None = None
    concerned: str | None = None
    grant: Row | None = None
    board_minute: str | None = None
    promotes: bool = False
    assigns: Mapping[str, str | None] = dataclasses.field(default_factory=dict)
    becomes: str | None = None
    benefits: tuple[str, ...] = ()
    minute_for: str | None = None

    @property
    def why_minute(self) -> str | None:
        """What the board minute is needed for, if one is."""
        if self.promotes:
            return "making or unmaking a trustee or the CEO"
        return self.minute_for


@dataclasses.dataclass(frozen=True)
class Condition:
    """A condition of a rule: its words, and the check `authorise` runs (raises Refused).
    A condition without a check says what the command does or requires of the records
    (`its grants must be ended first`), which the command's own record rules enforce."""

    text: str
    check: Callable[[Operation, Attempt], None] | None = None


@dataclasses.dataclass(frozen=True)
class Rule:
    """One line of the rule table."""

    action: str
    doing: str  # what it does, in words: "give delegations"
    subject: str  # person, account, grant, delegation or organisation
    who: str  # a key of WHO
    conditions: tuple[Condition, ...] = ()
    never_self: bool = False  # the person concerned may not do it to themselves
    in_setup: bool = False  # allowed to anyone, without MFA, before the CEO has enrolled
    needs_mfa: bool = True

    def describe(self) -> dict[str, str]:
        """The rule in words, for `accessgov authority rules`."""
        conditions = [condition.text for condition in self.conditions]
        if self.never_self:
            conditions.insert(0, "never the person concerned")
        if self.in_setup:
            conditions.append("anyone may, without a code, until the CEO has enrolled MFA")
        if self.needs_mfa:
            conditions.append("with their MFA code or session")
        return {"action": self.action, "what": self.doing, "subject": self.subject,
                "who": WHO[self.who], "conditions": "; ".join(conditions)}


# -- the conditions that are checks ---------------------------------------------------------

def _refuse_proxy(op: Operation, attempt: Attempt) -> None:
    """Nobody acts for whoever put them in place: an approver added, made an approver,
    imported, reinstated or delegated to by someone, or whose MFA someone enrolled (and so
    could make their codes), may not decide that person's grants, requests, review items,
    offboarding or return. A sock puppet approves nothing for its maker."""
    me = op.operator["id"]
    requester = attempt.grant["requested_by"] if attempt.grant else None
    problem = proxy_problem(me, placed_by(op, me), attempt.benefits, requester)
    if problem:
        raise Refused(problem)


def proxy_problem(me: str, placed: Mapping[str, str], benefits: tuple[str, ...],
                  requester: str | None) -> str | None:
    """Why `me`, put in place as `placed` says, may not decide in favour of `benefits` (or on
    a request `requester` made), if they may not."""
    for person in benefits:
        if person != me and person in placed:
            return _proxy_refusal(me, person, placed[person])
    # Whoever enrolled the approver's MFA can make their codes, and so act as them outright:
    # their requests (for anyone) are theirs to approve, not the approver's.
    if requester and requester != me and placed.get(requester, "").startswith("enrolled"):
        return _proxy_refusal(me, requester, placed[requester])
    return None


def _proxy_refusal(me: str, maker: str, what: str) -> str:
    if what.startswith("enrolled"):
        return (f"{me}'s MFA was enrolled by {maker}, who has seen its seed, so {me} cannot "
                f"decide {maker}'s grants or requests; another approver must (or {me} "
                "enrols again, themselves)")
    return (f"{me} was put in place by {maker} ({maker} {what}), so {me} cannot decide on "
            f"{maker}'s access or records; another approver must")


def placed_by(op: Operation, person: str) -> dict[str, str]:
    """Everyone who put `person` in place, with what they did (first act each), cached for the
    change (see `placers`); the log's events must carry their seals."""
    key = f"placed_by:{person}"
    if key not in op.facts:
        op.facts[key] = placers(op.register, person, op.trust.events.holds)
    placed: dict[str, str] = op.facts[key]  # type: ignore[assignment]
    return placed


def placers(register: Register, person: str,
            holds: Callable[[Row], bool] | None = None) -> dict[str, str]:
    """Everyone who put `person` in place, with what they did (first act each): from the log
    (added, made an approver, imported, reinstated, delegated to, enrolled before
    invitations) and from the MFA record (who enrolled the seed in use). `holds` checks each
    event's seal (a dry run, which decides nothing, reads them unchecked)."""
    found: dict[str, str] = {}
    state = mfa_rows.state(register, person)
    if state and state["enrolled_by"] and state["enrolled_by"] != person:
        found[state["enrolled_by"]] = f"enrolled {person}'s MFA"
    for event in events.placing(register, person):
        if holds is not None and not holds(event):
            raise Tampered(f"the audit log's event {event['seq']} does not carry its seal: "
                           "the register was changed outside accessgov; run 'accessgov "
                           "audit verify'")
        what = _placing(event, person)
        if what and event["actor"] != person and people.exists(register, event["actor"]):
            found.setdefault(event["actor"], what)
    return found


def _placing(event: Row, person: str) -> str | None:
    """What an event did to put `person` in place, in words, if it did."""
    action, details = event["action"], json.loads(event["details"])
    if action == "person.add":
        return f"added {person} to the register"
    if action == "person.import":
        return f"imported {person} into the register"
    if action == "person.reinstate":
        return f"reinstated {person}"
    if action == "mfa.enrol":
        return f"enrolled {person}'s MFA"
    if action == "person.update":
        category = (details.get("after") or {}).get("category")
        return f"made {person} {category}" if is_approver_category(category) else None
    if action in ("delegation.add", "delegation.import"):
        return f"gave {person} delegation {event['subject']}"
    return None


def _refuse_self_assignment(op: Operation, attempt: Attempt) -> None:
    """Nobody makes themselves an account's owner, overseer or recovery contact."""
    if not attempt.assigns or op.operator_id is None or not is_set_up(op):
        return
    for field, value in attempt.assigns.items():
        problem = rules.self_assignment(op.operator, field, value)
        if problem:
            raise Refused(f"{problem}; another approver must")


def _require_board_minute(op: Operation, attempt: Attempt) -> None:
    """Making or unmaking a trustee or the CEO (or undoing what a board minute decided): a
    board minute, and not by the person concerned."""
    why = attempt.why_minute
    if why is None or not is_set_up(op):
        return  # set-up: the Board's first members are being entered
    if op.operator["id"] == attempt.concerned:
        raise Refused(f"{attempt.concerned} cannot make or unmake themselves an approver; "
                      "another trustee or the CEO must")
    if not attempt.board_minute:
        raise Refused(f"{why} needs the board minute that decided it: add --board-minute REF")


def _refuse_second_ceo(op: Operation, attempt: Attempt) -> None:
    """One active CEO at a time (a record rule, checked here so that it comes before the
    board minute is asked for)."""
    if attempt.becomes and attempt.concerned:
        problem = rules.second_ceo(people.active_ceos(op.register), attempt.concerned,
                                   attempt.becomes)
        if problem:
            raise InputError(f"{problem} (change their category first if the CEO has "
                             "changed)")


PROXY = Condition("never by someone the person it favours put in place (added, made an "
                  "approver, imported, reinstated, delegated to, or enrolled their MFA and so "
                  "held the seed)", _refuse_proxy)
ASSIGN = Condition("nobody makes themselves owner, overseer or recovery contact",
                   _refuse_self_assignment)
PROMOTE = Condition("making or unmaking a trustee or the CEO needs --board-minute and someone "
                    "other than the person concerned", _require_board_minute)
LEAVER_APPROVER = Condition("a trustee or the CEO leaving needs --board-minute",
                            _require_board_minute)
RETURNING_APPROVER = Condition("a trustee or the CEO, or anyone whose offboarding a board minute "
                               "decided, needs --board-minute; they come back with no access "
                               "and no MFA", _require_board_minute)
ONE_CEO = Condition("there is one active CEO at a time", _refuse_second_ceo)
MINUTE_RECORDED = Condition("records the board minute when given (--board-minute)")


def _note(text: str) -> Condition:
    return Condition(text)


RULES: dict[str, Rule] = {rule.action: rule for rule in (
    Rule("person.add", "add people", "organisation", "board", (ONE_CEO, PROMOTE),
         in_setup=True),
    Rule("person.update", "change people's details", "person", "board",
         (ONE_CEO, PROMOTE, PROXY)),
    Rule("account.add", "register accounts", "organisation", "board", (ASSIGN,),
         in_setup=True),
    Rule("account.update", "change account details", "account", "board",
         (_note("handle, purpose, url, kind, MFA method"),)),
    Rule("account.reassign", "change an account's owner, overseer or recovery contact",
         "account", "approvers", (_note("owner, overseer, recovery email or phone"), ASSIGN)),
    Rule("account.exception", "record a shared login as an exception, with its compensating "
         "controls", "account", "board",
         (_note("Cyber Essentials allows a shared account only as a recorded exception"),)),
    Rule("account.archive", "archive accounts", "account", "board",
         (_note("its grants must be ended first"),)),
    Rule("delegation.add", "give delegations", "person", "ceo",
         (MINUTE_RECORDED,), never_self=True),
    Rule("delegation.revoke", "revoke delegations", "delegation", "board",
         (MINUTE_RECORDED,), never_self=True),
    Rule("grant.request", "ask for access", "account", "approvers-or-self",
         (_note("someone without approver rights may ask only for themselves"),)),
    Rule("grant.approve", "approve access", "grant", "approvers", (PROXY,), never_self=True),
    Rule("grant.decline", "decline requests", "grant", "approvers", (PROXY,),
         never_self=True),
    Rule("grant.add", "grant access", "account", "approvers", (PROXY,), never_self=True),
    Rule("grant.revoke", "revoke access", "grant", "approvers"),
    Rule("grant.confirm", "confirm an imported approval recorded in their name", "grant",
         "self", (_note("until then 'check' lists it (ACC-007); the approval itself is the "
                        "importer's"),)),
    Rule("cred.set", "store credentials", "account", "managers"),
    Rule("cred.rotate", "rotate credentials", "account", "managers"),
    Rule("cred.adopt", "adopt credentials", "account", "managers"),
    Rule("cred.reveal", "reveal credentials", "account", "holders",
         (_note("recorded as an exposure"),)),
    Rule("cred.otp", "take an account's codes", "account", "holders",
         (_note("recorded as an exposure"),)),
    Rule("mfa.invite", "invite people to enrol in MFA", "person", "board",
         (_note("the person then enrols themselves, so nobody else sees their seed"),)),
    Rule("mfa.enrol", "enrol in MFA", "person", "self",
         (_note("only with an invitation, or the CEO's first enrolment during set-up"),),
         in_setup=True, needs_mfa=False),
    Rule("mfa.confirm", "confirm an MFA enrolment", "person", "self",
         (_note("with the first code of the new app"),), needs_mfa=False),
    Rule("mfa.reset", "reset MFA", "person", "board",
         (_note("at least one other CEO or trustee must keep MFA"),)),
    Rule("session.open", "log in", "person", "self", (_note("with a code from their app"),)),
    Rule("session.close", "log out", "person", "self", (_note("no code needed"),), needs_mfa=False),
    Rule("policy.review", "record the annual policy review", "organisation", "board",
         (MINUTE_RECORDED,)),
    Rule("clock.acknowledge", "acknowledge that the clock was wrong (the log's time steps back)",
         "organisation", "board", (_note("needs --board-minute; 'audit verify' lists it"),)),
    Rule("register.restore", "put the register back from a backup",
         "organisation", "board",
         (_note("needs --board-minute; moves the secret store's record of the chain head"),)),
    Rule("store.address", "change the secret store's address", "organisation", "board",
         (_note("the change is proved and sealed through the new address, so it must be the "
                "same store (its audit key, its record of the chain head)"),)),
    Rule("store.move", "move the register's secrets to another store", "organisation", "board",
         (_note("every secret is copied with its version numbers and checked before the "
                "register switches; the new store's area must be empty"),)),
    Rule("policy.setting", "change the policy checks' settings", "organisation", "board",
         (_note("e.g. the longest a credential may go without rotation"),)),
    Rule("review.start", "start an access review", "organisation", "board",
         (_note("one open review at a time"),)),
    Rule("review.decide", "decide access review items", "grant", "approvers",
         (_note("never on their own grant"), PROXY), never_self=True),
    Rule("incident.open", "open an incident (an account compromised, a device lost, a wrong "
         "post)", "organisation", "anyone",
         (_note("with their MFA if they have enrolled; otherwise recorded as not verified"),),
         needs_mfa=False),
    Rule("incident.done", "tick incident checklist items", "incident", "approvers"),
    Rule("incident.decide", "decide whether an incident is reported to the Charity "
         "Commission", "incident", "board"),
    Rule("incident.close", "close an incident", "incident", "board",
         (_note("every item done first, the decision on reporting included"),)),
    Rule("review.export", "record an evidence bundle of an access review", "campaign", "board",
         (_note("the manifest's SHA-256 goes into the log, where 'verify-pack' finds it"),)),
    Rule("review.close", "close an access review", "campaign", "board",
         (_note("every item decided first; revokes the items decided 'revoke'"), PROXY)),
    Rule("offboard.start", "start offboarding someone who leaves", "person", "board",
         (LEAVER_APPROVER, PROXY,
          _note("delegations the leaver gave lapse with them")), never_self=True),
    Rule("todo.done", "tick platform removals on the to-do list", "grant", "approvers",
         (_note("once the person is off the platform itself"), PROXY), never_self=True),
    Rule("offboard.done", "tick offboarding items", "case", "approvers",
         (_note("an item about an account: an approver for that account"), PROXY)),
    Rule("person.reinstate", "reinstate a leaver", "person", "board",
         (ONE_CEO, RETURNING_APPROVER, PROXY), never_self=True),
    Rule("register.import", "import records from a spreadsheet", "organisation", "board",
         (_note("an imported grant is approved by the importer, under the rules of grant "
                "add; the approver, authority and date the file names are kept as a claim"),
          _note("the rules of the one-by-one commands hold for every row"),
          _note("only the CEO imports delegations"))),
)}


@dataclasses.dataclass(frozen=True)
class Authority:
    """What a decision rested on: `ceo`, `trustee`, `delegation:D-0001`, `owner`, `self`,
    `setup`, and for holders the grant that lets them see a credential."""

    name: str
    grant: str | None = None

    def __str__(self) -> str:
        return self.name


def authorise(op: Operation, action: str, subject: str, *, account: Row | None = None,
              concerned: str | None = None, grant: Row | None = None,
              board_minute: str | None = None, promotes: bool = False,
              assigns: Mapping[str, str | None] | None = None,
              becomes: str | None = None, benefits: tuple[str, ...] = (),
              minute_for: str | None = None, stored_by: str | None = None) -> Authority:
    """Decide `action` on `subject` for the operator by the rule table, or refuse.

    Checks who may do it, proves the operator's MFA where the rule says, then runs every
    condition of the rule against the attempt (see `Attempt` for what each fact means).
    """
    if grant is not None:
        benefits = (*benefits, grant["person"])
    attempt = Attempt(action, subject, account, concerned, grant, board_minute, promotes,
                      assigns or {}, becomes, benefits, minute_for)
    rule = RULES[action]
    op.attempt = (action, subject)
    if rule.in_setup and not is_set_up(op):
        _check_conditions(op, rule, attempt)  # those that hold during set-up too
        return Authority("setup")
    person = op.operator
    if problem := rules.cannot_act(person):
        raise Refused(problem)
    if rule.never_self and concerned == person["id"]:
        raise Refused(_self_refusal(action, person["id"]))
    granted = _who(op, rule, account, concerned, stored_by)
    if granted is None:
        raise Refused(_no_authority(rule, person["id"], account))
    if rule.needs_mfa:
        # Here, not at the top: read commands import this module for its rules, and proving
        # (sessions, codes, the store) is only for changes.
        from accessgov.identity.proof import prove

        prove(op)
    _check_conditions(op, rule, attempt)
    return granted


def _check_conditions(op: Operation, rule: Rule, attempt: Attempt) -> None:
    for condition in rule.conditions:
        if condition.check is not None:
            condition.check(op, attempt)


def _who(op: Operation, rule: Rule, account: Row | None, concerned: str | None,
         stored_by: str | None = None) -> Authority | None:
    person = op.operator
    category = person["category"]
    board = Authority(category) if is_approver_category(category) else None
    if rule.who == "board":
        return board
    if rule.who == "ceo":
        return Authority("ceo") if category == "ceo" else None
    if rule.who == "self":
        return Authority("self") if concerned == person["id"] else None
    if rule.who == "anyone":
        return Authority(category)
    approver = board or _delegation_for(op, account)
    if rule.who == "approvers":
        return approver
    if rule.who == "approvers-or-self":
        return approver or (Authority("self") if concerned == person["id"] else None)
    owner = Authority("owner") if account and account["owner"] == person["id"] else None
    if rule.who == "managers":
        return approver or owner
    if rule.who == "holders":
        assert account is not None
        grant = grant_rows.live_grant_of(op.register, person["id"], account["id"], op.today)
        if grant is not None:
            return Authority(f"grant:{grant['id']}", grant["id"])
        if owner is None and approver is not None and stored_by == person["id"]:
            # The approver who rotated it must be able to type it into the platform.
            return Authority(f"stored it as {approver}")
        return owner
    raise AssertionError(f"unknown rule subject {rule.who}")


def _delegation_for(op: Operation, account: Row | None) -> Authority | None:
    """The operator's delegation in force today whose scope covers `account`."""
    if account is None:
        return None  # delegations cover grant and credential actions on accounts only
    for delegation in delegation_rows.held_by(op.register, op.operator["id"]):
        if not rules.delegation_in_force(delegation, op.today):
            continue
        if rules.cannot_act(people.get(op.register, delegation["granted_by"])):
            continue  # it lapsed with the authority that gave it
        scopes = delegation_rows.scopes(op.register, delegation["id"])
        if delegation["all_accounts"] or account["id"] in {s["account"] for s in scopes}:
            return Authority(f"delegation:{delegation['id']}")
    return None


def _self_refusal(action: str, person: str) -> str:
    if action.startswith("grant."):
        return f"{person} cannot approve their own access; another approver must do it"
    if action == "review.decide":
        return f"{person} cannot decide on their own access in a review; another approver must"
    return f"{person} cannot do this for themselves ({action}); another approver must"


def _no_authority(rule: Rule, person: str, account: Row | None) -> str:
    if rule.who == "holders" and account is not None:
        return (f"{person} has no active grant on {account['id']}, so cannot see its "
                "credentials (an approver can grant access first)")
    if rule.who in ("approvers", "approvers-or-self", "managers"):
        scope = f" for {account['id']}" if account else ""
        return (f"{person} is not the CEO, a trustee or a delegate{scope}, so cannot "
                "approve access or change the register")
    return f"only {WHO[rule.who]} can {rule.doing}; {person} is not"


# -- set-up ------------------------------------------------------------------------------------

def setup_claimed(register: Register) -> bool:
    """Whether the log says set-up is over, without checking its seal (only to decide whether
    to ask for a code; `is_set_up` decides)."""
    return events.setup_completed(register) is not None


def is_set_up(op: Operation) -> bool:
    """True once the CEO has confirmed MFA, as the sealed log records it. A settings row can be
    deleted; the sealed event cannot be forged, and its loss is caught by the marker that the
    confirmation also left in the secret store."""
    if "set_up" not in op.facts:
        event = events.setup_completed(op.register)
        sealed = event is not None and op.trust.events.holds(event)
        if not sealed and op.store.exists(SETUP_MARKER):
            raise Tampered("the register's audit log has lost the CEO's confirmed enrolment "
                           "(the secret store says set-up was completed): the register was "
                           "changed outside accessgov; run 'accessgov audit verify'")
        op.facts["set_up"] = sealed
    return bool(op.facts["set_up"])


def mark_set_up(op: Operation) -> None:
    """Leave the set-up marker in the secret store (undone if the change does not commit)."""
    op.write_secret(SETUP_MARKER, op.at, expect_version=0)
    op.facts["set_up"] = True

