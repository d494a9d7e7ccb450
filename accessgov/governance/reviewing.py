"""Quarterly access reviews, the changes: start, decide, keep all on an account, close.

Starting a campaign snapshots the grants live that day into its sealed record; approvers
decide each item keep or revoke (never their own grant); closing it needs every item decided,
revokes the items decided "revoke", and records the head of the audit log, so the evidence
pack can be checked against the log later (`accessgov audit verify --anchor`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

from accessgov.access import catalogue
from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.db.queries import accounts, events, grants, people, reviews
from accessgov.db.register import Register, Row
from accessgov.errors import InputError, NotFound, Refused, Tampered
from accessgov.governance.review import (
    DECISIONS,
    check_quarter,
    get_campaign,
    quarter_of,
    summary,
)
from accessgov.identity.authority import authorise, placed_by
from accessgov.identity.proof import prove
from accessgov.operation import Operation

DEFAULT_DUE_DAYS = 30


def start(op: Operation, quarter: str | None, due: str | None) -> Row:
    """Snapshot every live grant into a new campaign (one open campaign at a time)."""
    quarter = check_quarter(quarter) if quarter else quarter_of(op.today)
    due_day = parse_date(due, "--due") if due is not None else \
        (dt.date.fromisoformat(op.today) + dt.timedelta(days=DEFAULT_DUE_DAYS)).isoformat()
    if due_day < op.today:
        raise InputError(f"--due {due_day} is in the past")
    existing = reviews.get(op.register, quarter)
    if existing is not None:
        raise InputError(f"the {quarter} access review already exists ({existing['status']}); "
                         "a quarter is reviewed once")
    still_open = reviews.open_one(op.register)
    if still_open:
        raise InputError(f"the {still_open} access review is still open: decide its items and "
                         f"close it ('accessgov review close {still_open}') before starting "
                         "another")
    authorise(op, "review.start", quarter)
    live = list(grants.live_ids(op.register, op.today))  # a snapshot may hold 100,000
    snapshot = json.dumps(live, separators=(",", ":"))
    digest = hashlib.sha256(snapshot.encode()).hexdigest()
    campaign = {"id": quarter, "started_by": op.operator["id"], "started_at": op.at,
                "due": due_day, "status": "open", "grants": snapshot, "items": len(live),
                "decided": 0, "snapshot_sha256": digest, "revoked": 0}
    op.register.insert("review_campaigns", campaign)
    op.record("review.start", quarter, due=due_day, items=len(live), snapshot_sha256=digest)
    return summary(get_campaign(op.register, quarter))


@dataclasses.dataclass(frozen=True)
class Decided:
    """What one `review decide` did: the items decided, and those left for someone else."""

    decided: list[int]
    left: list[tuple[int, str]]  # (item, why it was left to another approver)


def decide(op: Operation, quarter: str, item: int, decision: str,
           note: str | None = None) -> Decided:
    """Decide one item keep or revoke (an approver for its account; never their own grant)."""
    decision, note = _check_decision(decision, note)
    campaign = _open_campaign(op.register, quarter)
    grant_id = _item_grant(campaign, item)
    _refuse_decided(op.register, quarter, item)
    grant = grants.get(op.register, grant_id)
    account = accounts.get(op.register, grant["account"])
    authority = authorise(op, "review.decide", grant_id, account=account,
                          concerned=grant["person"], grant=grant)
    _record(op, campaign, item, grant, decision, note, str(authority))
    _count(op, campaign, 1)
    return Decided([item], [])


def keep_all(op: Operation, quarter: str, account_id: str | None,
             note: str | None = None) -> Decided:
    """Keep every undecided item on one account (or on every account), each as its own
    recorded decision. Items the operator may not decide (their own grant, one of whoever
    enrolled their MFA, an account beyond their delegation) are left for another approver."""
    _, note = _check_decision("keep", note)
    campaign = _open_campaign(op.register, quarter)
    if account_id is not None:
        accounts.get(op.register, account_id)  # an unknown account is said as such
    undecided = reviews.undecided_on(op.register, quarter, account_id)
    where = f" on {account_id}" if account_id else ""
    if not undecided:
        raise InputError(f"{quarter} has no undecided items{where}")
    decided, left = [], []
    for entry in undecided:
        grant = grants.get(op.register, entry["grant_id"])
        why = _why_not_mine(op, grant)
        if why:
            left.append((entry["item"], why))
            continue
        account = accounts.get(op.register, grant["account"])
        try:
            authority = authorise(op, "review.decide", grant["id"], account=account,
                                  concerned=grant["person"], grant=grant)
        except Refused as refused:
            if account_id is not None:
                raise
            left.append((entry["item"], str(refused)))  # another approver's account
            continue
        _record(op, campaign, entry["item"], grant, "keep", note, str(authority))
        decided.append(entry["item"])
    if not decided:
        op.attempt = ("review.decide", quarter)  # the refusal is recorded as such
        raise Refused(f"{op.operator['id']} may decide none of the undecided items{where} "
                      f"({left[0][1]}); another approver must")
    _count(op, campaign, len(decided))
    return Decided(decided, left)


@dataclasses.dataclass(frozen=True)
class Revocation:
    """A grant the review revoked, and what to do on the platform."""

    item: int
    grant_id: str
    person: str
    person_name: str
    account: str
    platform: str
    role: str
    steps: list[str]
    already_ended: str | None  # the grant's status if it had ended before the close


@dataclasses.dataclass(frozen=True)
class Closing:
    """What closing a campaign did."""

    campaign: Row
    revocations: list[Revocation]


def close(op: Operation, quarter: str) -> Closing:
    """Close a campaign whose every item is decided: revoke the revoke items in the register,
    record the audit head, and return the platform steps for each revocation."""
    campaign = _open_campaign(op.register, quarter)
    decisions = reviews.decisions(op.register, quarter)
    if len(decisions) < campaign["items"]:
        missing = sorted(set(range(1, campaign["items"] + 1)) - {d["item"] for d in decisions})
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise InputError(f"{len(missing)} of the {campaign['items']} items of {quarter} are "
                         f"not decided yet (items {shown}): decide them first")
    # Closing keeps every item decided "keep": nobody closes for whoever put them in place.
    authorise(op, "review.close", quarter, benefits=reviews.kept_persons(op.register, quarter))
    proof = prove(op)
    if len(decisions) != campaign["decided"]:
        raise Tampered(f"the decisions of {quarter} do not match its record (it counts "
                       f"{campaign['decided']}, the register holds {len(decisions)}): the "
                       "register was changed outside accessgov; run 'accessgov audit verify'")
    head = events.head(op.register)
    assert head is not None  # the log always starts with the register's init
    revocations = [_revoke(op, quarter, row) for row in decisions if row["decision"] == "revoke"]
    op.register.update("review_campaigns", {"id": quarter}, {
        "status": "closed", "closed_by": op.operator["id"], "closed_at": op.at,
        "closed_verified_by": proof.describe(), "revoked": len(revocations),
        "head_seq": head["seq"], "head_mac": head["mac"]})
    op.record("review.close", quarter, items=campaign["items"],
              kept=campaign["items"] - len(revocations), revoked=len(revocations),
              head_seq=head["seq"], head_mac=head["mac"])
    return Closing(summary(get_campaign(op.register, quarter)), revocations)


# -- helpers -----------------------------------------------------------------------------------

def _check_decision(decision: str, note: str | None) -> tuple[str, str | None]:
    validate.one_of(decision, DECISIONS, "decision")
    return decision, validate.text(note, "note") if note is not None else None


def _open_campaign(register: Register, quarter: str) -> Row:
    campaign = get_campaign(register, quarter)
    if campaign["status"] != "open":
        raise InputError(f"the {quarter} access review was closed on "
                         f"{(campaign['closed_at'] or '')[:10]}; it can no longer change")
    return campaign


def _item_grant(campaign: Row, item: int) -> str:
    grants: list[str] = json.loads(campaign["grants"])
    if not 1 <= item <= len(grants):
        span = f"items 1 to {len(grants)}" if grants else "no items"
        raise NotFound(f"the {campaign['id']} access review has no item {item} ({span})")
    return grants[item - 1]


def _refuse_decided(register: Register, quarter: str, item: int) -> None:
    done = reviews.decision(register, quarter, item)
    if done is not None:
        raise InputError(f"item {item} of {quarter} was already decided ({done['decision']}, "
                         f"by {done['decided_by']} on {done['decided_at'][:10]}); a decision "
                         "is recorded once")


def _why_not_mine(op: Operation, grant: Row) -> str | None:
    """Why the operator may not decide this grant, if they may not (checked before asking the
    rule table, so that `--all-keep` leaves such items rather than refusing them all)."""
    me = op.operator["id"]
    if grant["person"] == me:
        return f"{grant['id']} is {me}'s own grant"
    placed = placed_by(op, me)
    if grant["person"] in placed:
        return f"{grant['person']} {placed[grant['person']]}"
    requester = grant["requested_by"]
    if requester != me and placed.get(requester, "").startswith("enrolled"):
        return f"{requester} {placed[requester]}"
    return None


def _record(op: Operation, campaign: Row, item: int, grant: Row, decision: str,
            note: str | None, authority: str) -> None:
    proof = prove(op)
    op.register.insert("review_decisions", {
        "campaign": campaign["id"], "item": item, "grant_id": grant["id"],
        "decision": decision, "decided_by": op.operator["id"], "authority": authority,
        "verified_by": proof.describe(), "decided_at": op.at, "note": note})
    op.record("review.decide", campaign["id"], item=item, grant=grant["id"],
              person=grant["person"], account=grant["account"], role=grant["role"],
              decision=decision, authority=authority, note=note)


def _count(op: Operation, campaign: Row, how_many: int) -> None:
    decided = reviews.decided_count(op.register, campaign["id"])
    op.register.update("review_campaigns", {"id": campaign["id"]},
                       {"decided": decided + how_many})


def _revoke(op: Operation, quarter: str, decision: Row) -> Revocation:
    grant = grants.get(op.register, decision["grant_id"])
    account = accounts.get(op.register, grant["account"])
    name = people.name(op.register, grant["person"]) or grant["person"]
    ended = None
    if grant["status"] == "active":
        reason = f"access review {quarter}, item {decision['item']}" + (
            f": {decision['note']}" if decision["note"] else "")
        op.register.update("grants", {"id": grant["id"]}, {
            "status": "revoked", "revoked_by": op.operator["id"], "revoked_at": op.at,
            "revoke_reason": reason})
        op.record("grant.revoke", grant["id"], person=grant["person"],
                  account=grant["account"], role=grant["role"], reason=reason,
                  review=quarter, item=decision["item"], decided_by=decision["decided_by"])
    else:
        ended = grant["status"]
    return Revocation(decision["item"], grant["id"], grant["person"], name, grant["account"],
                      account["platform"], grant["role"], _steps(account, grant, name), ended)


def _steps(account: Row, grant: Row, name: str) -> list[str]:
    """What to do on the platform itself to take the access away."""
    platform = catalogue.platform(account["platform"])
    if account["access"] == "shared-login" or grant["role"] not in platform.roles:
        return [*platform.shared_login_checklist(name, account["handle"]),
                f"Record the new password: accessgov cred rotate {account['id']} --generate"]
    return platform.offboarding_steps(grant["role"], name, account["handle"])

