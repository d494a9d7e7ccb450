"""Who may do what: the one rule table every change is decided by.

Every command that changes the register names its action and its subject, and `authorise`
looks the action up in RULES: who may do it, whether the person concerned is barred, and
whether it is allowed while the register is still being set up. `accessgov authority rules`
prints the table for trustees. The few conditions that need more than a row lookup (a board
minute for making an approver, nobody assigning an account to themselves, no decisions by
someone whose MFA the grantee enrolled) are the named checks further down, and the table's
`conditions` say where each applies.

Every row a decision rests on is checked against its seal first (accessgov.db.seals), so a
record written into the file behind the log grants nothing.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from accessgov.db.queries import delegation_scopes, delegations_of, live_grant_of, mfa_state
from accessgov.db.register import Register, Row
from accessgov.errors import Refused, Tampered

if TYPE_CHECKING:  # read commands import this module for its rules: keep it light
    from accessgov.operation import Operation

APPROVER_CATEGORIES = ("ceo", "trustee")
SETUP_MARKER = "audit/setup-complete"  # in the secret store, where the register cannot undo it

WHO = {
    "board": "the CEO or a trustee",
    "ceo": "the CEO",
    "approvers": "the CEO, a trustee, or a delegate whose delegation covers the account",
    "managers": "an approver for the account, or the account's owner",
    "holders": "someone with a live grant on the account, or its owner",
    "self": "the person themselves",
    "approvers-or-self": "an approver for the account, or the person asking for their own access",
}


@dataclasses.dataclass(frozen=True)
class Rule:
    """One line of the rule table."""

    action: str
    doing: str  # what it does, in words: "give delegations"
    subject: str  # person, account, grant, delegation or organisation
    who: str  # a key of WHO
    conditions: tuple[str, ...] = ()
    never_self: bool = False  # the person concerned may not do it to themselves
    in_setup: bool = False  # allowed to anyone, without MFA, before the CEO has enrolled
    needs_mfa: bool = True

    def describe(self) -> dict[str, str]:
        """The rule in words, for `accessgov authority rules`."""
        conditions = list(self.conditions)
        if self.never_self:
            conditions.insert(0, "never the person concerned")
        if self.in_setup:
            conditions.append("anyone may, without a code, until the CEO has enrolled MFA")
        if self.needs_mfa:
            conditions.append("with their MFA code or session")
        return {"action": self.action, "what": self.doing, "subject": self.subject,
                "who": WHO[self.who], "conditions": "; ".join(conditions)}


_PROXY = ("never by someone whose MFA the grantee or the requester enrolled (they held "
          "the seed)")
_ASSIGN = "nobody makes themselves owner, overseer or recovery contact"
_PROMOTE = ("making or unmaking a trustee or the CEO needs --board-minute and someone "
            "other than the person concerned")

RULES: dict[str, Rule] = {rule.action: rule for rule in (
    Rule("person.add", "add people", "organisation", "board", (_PROMOTE,), in_setup=True),
    Rule("person.update", "change people's details", "person", "board", (_PROMOTE,)),
    Rule("account.add", "register accounts", "organisation", "board", (_ASSIGN,),
         in_setup=True),
    Rule("account.update", "change account details", "account", "board",
         ("handle, purpose, url, kind, MFA method",)),
    Rule("account.reassign", "change an account's owner, overseer or recovery contact",
         "account", "approvers", ("owner, overseer, recovery email or phone", _ASSIGN)),
    Rule("account.archive", "archive accounts", "account", "board",
         ("its grants must be ended first",)),
    Rule("delegation.add", "give delegations", "person", "ceo",
         ("records the board minute when given (--board-minute)",), never_self=True),
    Rule("delegation.revoke", "revoke delegations", "delegation", "board",
         ("records the board minute when given (--board-minute)",), never_self=True),
    Rule("grant.request", "ask for access", "account", "approvers-or-self",
         ("someone without approver rights may ask only for themselves",)),
    Rule("grant.approve", "approve access", "grant", "approvers", (_PROXY,), never_self=True),
    Rule("grant.decline", "decline requests", "grant", "approvers", (_PROXY,),
         never_self=True),
    Rule("grant.add", "grant access", "account", "approvers", (_PROXY,), never_self=True),
    Rule("grant.revoke", "revoke access", "grant", "approvers"),
    Rule("cred.set", "store credentials", "account", "managers"),
    Rule("cred.rotate", "rotate credentials", "account", "managers"),
    Rule("cred.adopt", "adopt credentials", "account", "managers"),
    Rule("cred.reveal", "reveal credentials", "account", "holders",
         ("recorded as an exposure",)),
    Rule("cred.otp", "take an account's codes", "account", "holders",
         ("recorded as an exposure",)),
    Rule("mfa.invite", "invite people to enrol in MFA", "person", "board",
         ("the person then enrols themselves, so nobody else sees their seed",)),
    Rule("mfa.enrol", "enrol in MFA", "person", "self",
         ("only with an invitation, or the CEO's first enrolment during set-up",),
         in_setup=True, needs_mfa=False),
    Rule("mfa.confirm", "confirm an MFA enrolment", "person", "self",
         ("with the first code of the new app",), needs_mfa=False),
    Rule("mfa.reset", "reset MFA", "person", "board",
         ("at least one other CEO or trustee must keep MFA",)),
    Rule("session.open", "log in", "person", "self", ("with a code from their app",)),
    Rule("session.close", "log out", "person", "self", ("no code needed",), needs_mfa=False),
    Rule("policy.review", "record the annual policy review", "organisation", "board",
         ("records the board minute when given (--board-minute)",)),
    Rule("policy.setting", "change the policy checks' settings", "organisation", "board",
         ("e.g. the longest a credential may go without rotation",)),
    Rule("review.start", "start an access review", "organisation", "board",
         ("one open review at a time",)),
    Rule("review.decide", "decide access review items", "grant", "approvers",
         ("never on their own grant", _PROXY), never_self=True),
    Rule("review.close", "close an access review", "campaign", "board",
         ("every item decided first; revokes the items decided 'revoke'",)),
    Rule("offboard.start", "start offboarding someone who leaves", "person", "board",
         ("a trustee or the CEO leaving needs --board-minute",), never_self=True),
    Rule("offboard.done", "tick offboarding items", "case", "approvers",
         ("an item about an account: an approver for that account",)),
    Rule("person.reinstate", "reinstate a leaver", "person", "board",
         ("a trustee or the CEO needs --board-minute; they come back with no access and no MFA",),
         never_self=True),
    Rule("register.import", "import records from a spreadsheet", "organisation", "board",
         ("imported approvals keep their original approver, authority and date",
          "the rules of the one-by-one commands hold for every row",
          "only the CEO imports delegations")),
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
              concerned: str | None = None) -> Authority:
    """Decide `action` on `subject` for the operator by the rule table, or refuse.

    `account` is the account the action touches (for delegations' scope, ownership and
    grants); `concerned` is the person the action is about (for "never the person
    concerned" and "the person themselves"). Proves the operator's MFA where the rule says.
    """
    rule = RULES[action]
    op.attempt = (action, subject)
    if rule.in_setup and not is_set_up(op):
        return Authority("setup")
    person = op.operator
    if person["status"] != "active":
        raise Refused(f"{person['id']} has left and can no longer act in the register")
    if rule.never_self and concerned == person["id"]:
        raise Refused(_self_refusal(action, person["id"]))
    granted = _who(op, rule, account, concerned)
    if granted is None:
        raise Refused(_no_authority(rule, person["id"], account))
    if rule.needs_mfa:
        # Here, not at the top: read commands import this module for its rules, and proving
        # (sessions, codes, the store) is only for changes.
        from accessgov.identity.proof import prove

        prove(op)
    return granted


def _who(op: Operation, rule: Rule, account: Row | None, concerned: str | None
         ) -> Authority | None:
    person = op.operator
    category = person["category"]
    board = Authority(category) if category in APPROVER_CATEGORIES else None
    if rule.who == "board":
        return board
    if rule.who == "ceo":
        return Authority("ceo") if category == "ceo" else None
    if rule.who == "self":
        return Authority("self") if concerned == person["id"] else None
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
        grant = live_grant_of(op.register, person["id"], account["id"], op.today)
        if grant is not None:
            op.trusted("grants", op.register.row("SELECT * FROM grants WHERE id = ?", (grant,)))
            return Authority(f"grant:{grant}", grant)
        return owner
    raise AssertionError(f"unknown rule subject {rule.who}")


def _delegation_for(op: Operation, account: Row | None) -> Authority | None:
    """The operator's delegation in force today whose scope covers `account`."""
    if account is None:
        return None  # delegations cover grant and credential actions on accounts only
    for delegation in delegations_of(op.register, op.operator["id"]):
        op.trusted("delegations", delegation)
        if not delegation_in_force(delegation, op.today):
            continue
        scopes = delegation_scopes(op.register, delegation["id"])
        for scope in scopes:
            op.trusted("delegation_accounts", scope)
        if delegation["all_accounts"] or account["id"] in {s["account"] for s in scopes}:
            return Authority(f"delegation:{delegation['id']}")
    return None


def delegation_in_force(delegation: Row, today: str) -> bool:
    """Not revoked, started, and not past its end date."""
    return (
        not delegation["revoked_at"]
        and delegation["valid_from"] <= today
        and (not delegation["valid_until"] or today <= delegation["valid_until"])
    )


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


# -- conditions that need more than the operator's own rows ---------------------------------

def is_approver_category(category: str | None) -> bool:
    """Trustees and the CEO approve by their category alone."""
    return category in APPROVER_CATEGORIES


def require_board_minute(op: Operation, person: str, minute: str | None) -> None:
    """Making or unmaking a trustee or the CEO: a board minute, and not by the person."""
    if not is_set_up(op):
        return  # set-up: the Board's first members are being entered
    if op.operator["id"] == person:
        raise Refused(f"{person} cannot make or unmake themselves an approver; another "
                      "trustee or the CEO must")
    if not minute:
        raise Refused("making or unmaking a trustee or the CEO needs the board minute that "
                      "decided it: add --board-minute REF")


def refuse_self_assignment(op: Operation, field: str, value: str | None) -> None:
    """Nobody makes themselves an account's owner, overseer or recovery contact."""
    if value is None or op.operator_id is None or not is_set_up(op):
        return
    me = op.operator
    if value == me["id"] or (field == "recovery_email" and value.lower() == me["email"].lower()):
        raise Refused(f"{me['id']} cannot make themselves the {field.replace('_', ' ')} of an "
                      "account; another approver must")


def refuse_proxy_decision(op: Operation, grant: Row) -> None:
    """Whoever enrolled the approver's MFA has seen their seed and can make their codes: that
    approver's decisions on the enroller's own grants and requests are refused."""
    me = op.operator["id"]
    state = op.trusted("mfa", mfa_state(op.register, me))
    enroller = state["enrolled_by"] if state else None
    if enroller in (grant["person"], grant["requested_by"]) and enroller != me:
        raise Refused(
            f"{me}'s MFA was enrolled by {enroller}, who has seen its seed, so {me} cannot "
            f"decide {enroller}'s grants or requests; another approver must (or {me} "
            "enrols again, themselves)"
        )


# -- set-up ------------------------------------------------------------------------------------

_SETUP_EVENT = ("SELECT * FROM audit WHERE action = 'mfa.confirm' "
                "AND details LIKE '%\"completes_setup\":true%' ORDER BY seq LIMIT 1")


def setup_claimed(register: Register) -> bool:
    """Whether the log says set-up is over, without checking its seal (only to decide whether
    to ask for a code; `is_set_up` decides)."""
    return register.row(_SETUP_EVENT) is not None


def is_set_up(op: Operation) -> bool:
    """True once the CEO has confirmed MFA, as the sealed log records it. A settings row can be
    deleted; the sealed event cannot be forged, and its loss is caught by the marker that the
    confirmation also left in the secret store."""
    if "set_up" not in op.facts:
        from accessgov.audit import chain

        event = op.register.row(_SETUP_EVENT)
        sealed = event is not None and chain.event_is_sealed(op.keys.chain, event)
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

