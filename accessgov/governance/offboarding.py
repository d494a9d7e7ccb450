"""Offboarding: someone leaves, and accessgov gives the exact list of what to undo.

The policy ("Access", "Non-Compliance"): access goes when someone leaves, and passwords are
never left with people no longer authorised. The register knows every grant, every exposure
and every recovery contact, so starting an offboarding case revokes the leaver's grants,
pending requests and delegations, removes their own MFA and sessions, and writes the
shortest correct checklist of what is left to do outside the register: their role on each
platform, each credential whose CURRENT version they could know (a credential rotated since
their last exposure is not listed), and each account they own, oversee or recover.

A leave date ahead schedules the same for that day: the first change on or after it carries
it out (`carry_out_scheduled`, as grant expiry is). Items about credentials and accounts tick
themselves when the change that settles them is made (`tick_satisfied`); the rest are ticked
with `offboard done`. A case closes when every item is done.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from accessgov.access import catalogue, exposures
from accessgov.common import validate
from accessgov.common.timeutil import parse_date
from accessgov.db.queries import accounts, delegations, mfa, people, records
from accessgov.db.queries import grants as grant_rows
from accessgov.db.queries import offboarding as cases
from accessgov.db.register import Register, Row
from accessgov.db.seals import strip
from accessgov.errors import InputError, NotFound, Tampered
from accessgov.governance.ticking import hand_tick_note, refuse_if_done
from accessgov.identity import rules, sessions, totp
from accessgov.identity.authority import authorise
from accessgov.operation import Operation

STATUSES = ("scheduled", "open", "closed", "reinstated", "cancelled")
ITEM_KINDS = ("remove-access", "rotate", "reseed", "hand-over", "reassign", "delegation", "mfa")
# Items the register can see settled: they tick themselves (see tick_satisfied).
SELF_TICKING = ("rotate", "reseed", "hand-over", "reassign")
LEFT = "left the organisation"
Record = Callable[..., None]


# -- reading ----------------------------------------------------------------------------------

def unfinished_case(register: Register, person: str) -> Row | None:
    """The person's scheduled or open case, if any."""
    return cases.unfinished_case(register, person)


def latest_case(register: Register, person_id: str) -> Row:
    """The person's most recent case, or NotFound."""
    people.get(register, person_id)
    return cases.require_case(cases.latest_case(register, person_id), person_id)


def show_case(register: Register, person_id: str) -> dict[str, Any]:
    """The person's latest case with its numbered checklist (schemas/offboard-show)."""
    case = strip(latest_case(register, person_id))
    items = cases.items_with_accounts(register, case["id"])
    name = people.name(register, case["person"])
    return {
        "case": case["id"], "person": case["person"], "name": name, "status": case["status"],
        "leave_date": case["leave_date"], "reason": case["reason"],
        "started_by": case["started_by"], "started_at": case["started_at"],
        "authority": case["authority"], "verified_by": case["verified_by"],
        "board_minute": case["board_minute"], "carried_out_at": case["carried_out_at"],
        "closed_at": case["closed_at"], "closed_by": case["closed_by"],
        "items_total": len(items),
        "items_open": sum(1 for item in items if item["status"] == "open"),
        "items": [_item_view(item) for item in items],
    }


def _item_view(item: Row) -> dict[str, Any]:
    return {
        "item": item["item"], "kind": item["kind"], "account": item["account"],
        "platform": item["platform"], "handle": item["handle"],
        "credential_kind": item["credential_kind"], "version": item["version"],
        "grant": item["grant_id"], "delegation": item["delegation_id"],
        "field": item["field"], "action": item["action"], "steps": json.loads(item["steps"]),
        "status": item["status"], "done_by": item["done_by"], "done_at": item["done_at"],
        "note": item["note"],
    }


def list_cases(register: Register, *, unfinished_only: bool = False) -> list[Row]:
    """Every case, oldest first, with how many items each has and how many are open."""
    return cases.listing(register, unfinished_only=unfinished_only)


# -- starting -------------------------------------------------------------------------------

def start(op: Operation, person_id: str, *, leave_date: str | None = None,
          reason: str | None = None, board_minute: str | None = None) -> dict[str, Any]:
    """Offboard `person_id` from `leave_date` (default today): at once when the date has come,
    else scheduled for that day. Returns the case as `show_case` gives it."""
    person = people.get(op.register, person_id)
    leave = parse_date(leave_date, "--leave-date") if leave_date is not None else op.today
    reason = validate.text(reason, "reason") if reason is not None else None
    minute = validate.text(board_minute, "board minute") if board_minute else None
    existing = unfinished_case(op.register, person_id)
    if existing is not None:
        raise InputError(f"{person_id} is already being offboarded ({existing['id']}, "
                         f"{existing['status']}); see 'accessgov offboard show {person_id}'")
    if person["status"] == "left":
        when = person["leave_date"] or "an unrecorded date"
        raise InputError(f"{person_id} has already left (on {when}); 'accessgov person "
                         "reinstate' them first if they came back")
    if person["start_date"] and leave < person["start_date"]:
        raise InputError(f"--leave-date {leave} is before {person_id} started "
                         f"({person['start_date']})")
    # Offboarding a trustee or the CEO unmakes an approver: a board minute.
    used = authorise(op, "offboard.start", person_id, concerned=person_id, board_minute=minute,
                     promotes=rules.is_approver_category(person["category"]),
                     benefits=(person_id,))
    case_id, number = op.next_id("offboarding_cases", "O")
    scheduled = leave > op.today
    case = {
        "id": case_id, "num": number, "person": person_id, "leave_date": leave,
        "reason": reason, "status": "scheduled" if scheduled else "open",
        "started_by": op.operator["id"], "started_at": op.at, "authority": str(used),
        "verified_by": op.proof.describe() if op.proof else None, "board_minute": minute,
    }
    op.register.insert("offboarding_cases", case)
    op.record("offboard.start", case_id, person=person_id, leave_date=leave, reason=reason,
              authority=str(used), board_minute=minute, scheduled=scheduled or None)
    if not scheduled:
        carry_out(op, case, op.record)
    return show_case(op.register, person_id)


def carry_out_scheduled(op: Operation) -> None:
    """Before every change: carry out offboardings whose leave date has come (one indexed
    query when none is due)."""
    for case in cases.due(op.register, op.today):
        carry_out(op, case, op.record_system)


def carry_out(op: Operation, case: Row, record: Record) -> None:
    """Mark the person left, end their access in the register and write the checklist.

    `record` is `op.record` when the operator does it now, `op.record_system` when accessgov
    carries out a scheduled case; either way the decision was the case's starter's.
    """
    # Every row changed here is read checked first: a decision never rests on a row written
    # behind the log, and later reads in this change then trust what it wrote.
    person = people.get(op.register, case["person"])
    # The checklist rests on every exposure and delegation of theirs: none may be missing.
    for child in ("exposures", "delegations"):
        records.require_children(op.register, child, person["id"])
    grants = _end_grants(op, case, record)
    # An expiry ends a grant in the register, not on the platform: those stay on the list.
    expired = cases.expired_grants_of(op.register, person["id"])
    delegations = _end_delegations(op, case, record)
    mfa_note, ended = _remove_own_mfa(op, person["id"])
    op.register.update("people", {"id": person["id"]}, {
        "status": "left", "leave_date": case["leave_date"], "updated_at": op.at})
    items = checklist(op.register, person, grants + expired, delegations, mfa_note,
                      signed=op.trust.events.signed)
    for number, item in enumerate(items, start=1):
        done = item["status"] == "done"
        op.register.insert("offboarding_items", {
            "case_id": case["id"], "item": number, **item, "steps": json.dumps(item["steps"]),
            "done_by": case["started_by"] if done else None, "done_at": op.at if done else None,
        })
    still_open = sum(1 for item in items if item["status"] == "open")
    op.register.update("offboarding_cases", {"id": case["id"]}, {
        "status": "open" if still_open else "closed", "carried_out_at": op.at,
        "closed_at": None if still_open else op.at,
        "closed_by": None if still_open else case["started_by"]})
    record("person.leave", person["id"], case=case["id"], leave_date=case["leave_date"],
           grants_revoked=[g["id"] for g in grants if g["status"] == "active"] or None,
           requests_withdrawn=[g["id"] for g in grants if g["status"] == "pending"] or None,
           delegations_revoked=[d["id"] for d in delegations] or None,
           mfa_removed=mfa_note is not None or None, sessions_ended=ended or None,
           checklist_items=len(items), items_open=still_open)
    if not still_open:
        record("offboard.close", case["id"], person=person["id"], items=len(items))


def _end_grants(op: Operation, case: Row, record: Record) -> list[Row]:
    """Revoke the person's active grants and withdraw their pending requests; returns them
    (as they were, with their account's platform, handle and access model)."""
    grant_rows.open_of_person(op.register, case["person"])  # checked: decisions rest on them
    ended = cases.grants_to_end(op.register, case["person"])
    reason = f"{LEFT} (offboarding {case['id']})"
    for grant in ended:
        op.register.update("grants", {"id": grant["id"]}, {
            "status": "revoked", "revoked_by": case["started_by"], "revoked_at": op.at,
            "revoke_reason": reason})
        record("grant.revoke", grant["id"], person=grant["person"], account=grant["account"],
               role=grant["role"], reason=reason, was=grant["status"], case=case["id"],
               decided_by=case["started_by"])
    return ended


def _end_delegations(op: Operation, case: Row, record: Record) -> list[Row]:
    """Revoke every delegation in force or still to come that the person holds, and every one
    they gave (a CEO's delegations lapse with her: her authority was their source)."""
    held = delegations.current_of(op.register, case["person"], op.today)
    given = [d for d in delegations.current_given_by(op.register, case["person"], op.today)
             if d["delegate"] != case["person"]]
    for delegation in held + given:
        reason = (f"{LEFT} (offboarding {case['id']})" if delegation in held else
                  f"given by {case['person']}, who {LEFT} (offboarding {case['id']})")
        op.register.update("delegations", {"id": delegation["id"]}, {
            "revoked_by": case["started_by"], "revoked_at": op.at, "revoke_reason": reason})
        record("delegation.revoke", delegation["id"], delegate=delegation["delegate"],
               reason=reason, case=case["id"], decided_by=case["started_by"],
               in_force=rules.delegation_in_force(delegation, op.today))
    return held + given


def _remove_own_mfa(op: Operation, person_id: str) -> tuple[str | None, int]:
    """Delete the person's MFA enrolment and end their sessions. Returns what was removed
    (None when they had no MFA) and how many sessions ended. The seed leaves the store only
    after the commit, as `mfa reset` does: the register never claims a seed the store lacks."""
    ended = sessions.end_sessions(op.register, person_id, "offboarded", op.at)
    state = mfa.state(op.register, person_id)
    if state is None:
        return None, ended
    op.register.delete("mfa", {"person": person_id})
    if state["seed_version"] and not op.trust.events.signed:
        store = op.store
        op.after_commit(lambda: store.delete(totp.seed_path(person_id)))
    return f"MFA ({state['status']}) removed", ended


# -- the checklist ------------------------------------------------------------------------------

def checklist(register: Register, person: Row, grants: list[Row], delegations: list[Row],
              mfa_note: str | None, signed: bool = False) -> list[dict[str, Any]]:
    """The numbered checklist for a leaver, in order: platform roles, credentials, accounts
    they oversee, own or recover, delegations, their own MFA."""
    who = f"{person['name']} ({person['id']})"
    items = [removal_item(grant, who) for grant in grants
             if grant["status"] in ("active", "expired")]
    items += [_rotation(register, known, person["id"])
              for known in exposures.current_versions_known_by(register, person["id"])]
    items += [_handover(account) for account in _accounts(register, "overseer", person)]
    items += [_reassignment(account, "owner", person)
              for account in _accounts(register, "owner", person)]
    items += [_reassignment(account, "recovery_email", person)
              for account in _accounts(register, "recovery_email", person)]
    items += [_item("delegation", f"Revoke delegation {d['id']} held by {who}"
                    if d["delegate"] == person["id"] else
                    f"Revoke delegation {d['id']} that {who} gave to {d['delegate']} (it lapses "
                    "with the authority that gave it)", status="done", delegation_id=d["id"],
                    note="revoked in the register when the offboarding was carried out")
              for d in delegations]
    items.append(_item(
        "mfa", f"Remove {who}'s own MFA seed and end their sessions", status="done",
        note=f"{mfa_note}; sessions ended" if mfa_note else "no MFA was enrolled; sessions "
        "ended"))
    if signed:
        items.append(_item(
            "mfa", f"Disable {who} in OpenBao, so that no login or token of theirs works",
            steps=[f"The OpenBao administrator runs 'accessgov store disable {person['id']}' "
                   "(it also revokes every token of theirs).",
                   f"Then tick this item: 'accessgov offboard done {person['id']} N'."]))
    return items


def _item(kind: str, action: str, *, steps: list[str] | None = None, status: str = "open",
          **fields: Any) -> dict[str, Any]:
    base = dict.fromkeys(("account", "credential_kind", "version", "grant_id",
                          "delegation_id", "field", "note"))
    return base | fields | {"kind": kind, "action": action, "steps": steps or [],
                            "status": status}


def _accounts(register: Register, field: str, person: Row) -> list[Row]:
    return accounts.answered_for_by(register, field, person["id"], person["email"])


def _where(account: str, handle: str, platform_id: str) -> str:
    return f"{account} ({handle} on {catalogue.platform(platform_id).name})"


def removal_item(grant: Row, who: str) -> dict[str, Any]:
    """The item that says to take someone's ended grant off the platform, with its steps."""
    platform = catalogue.platform(grant["platform"])
    where = _where(grant["account"], grant["handle"], grant["platform"])
    if grant["access"] == "shared-login":
        steps = platform.shared_login_checklist(who, grant["handle"])
        action = f"Stop {who} using the shared login of {where} (grant {grant['id']})"
    else:
        word = platform.roles.get(grant["role"], grant["role"])
        try:
            steps = platform.offboarding_steps(grant["role"], who, grant["handle"])
        except (InputError, KeyError):  # a role the catalogue no longer lists for it
            steps = [f"Remove {who} from {grant['handle']}'s people on {platform.name}."]
        action = (f"Remove {who} as {word} ({grant['role']}) from {where} "
                  f"(grant {grant['id']})")
    if grant["status"] == "expired":
        action += f"; it expired in the register on {grant['expires']}, not on the platform"
    return _item("remove-access", action, steps=steps, account=grant["account"],
                 grant_id=grant["id"])


def _rotation(register: Register, known: Row, person_id: str) -> dict[str, Any]:
    account = accounts.get(register, known["account"])
    where = _where(account["id"], account["handle"], account["platform"])
    how = known["how"].replace(",", ", ")
    since = f"{person_id} could know version {known['version']} ({how}, since " \
            f"{known['since'][:10]})"
    command = f"accessgov cred rotate {account['id']} --kind {known['kind']}"
    if known["kind"] == "totp-seed":
        action = (f"Re-seed MFA on {catalogue.platform(account['platform']).name} for "
                  f"{where} and store the new seed: {since}")
        steps = [f"Turn two-factor authentication off and on again on {account['handle']}, "
                 "so the old seed stops working.",
                 f"Store the new seed with '{command}' (this item then ticks itself)."]
        kind = "reseed"
    else:
        action = f"Rotate the {known['kind']} of {where}: {since}"
        steps = [f"Change the {known['kind']} of {account['handle']} on the platform.",
                 f"Store the new one with '{command}' (this item then ticks itself)."]
        kind = "rotate"
    return _item(kind, action, steps=steps, account=account["id"],
                 credential_kind=known["kind"], version=known["version"])


def _handover(account: Row) -> dict[str, Any]:
    where = _where(account["id"], account["handle"], account["platform"])
    return _item("hand-over", f"Hand oversight of {where} to another authorised person",
                 steps=[f"Choose a new overseer and record it: 'accessgov account update "
                        f"{account['id']} --overseer PERSON' (this item then ticks itself)."],
                 account=account["id"], field="overseer")


def _reassignment(account: Row, field: str, person: Row) -> dict[str, Any]:
    where = _where(account["id"], account["handle"], account["platform"])
    if field == "owner":
        action = f"Re-assign {where} to a new owner"
        steps = [f"Record the new owner: 'accessgov account update {account['id']} "
                 "--owner PERSON' (this item then ticks itself)."]
    else:
        action = (f"Change the recovery email of {where}: it is {person['email']}, which "
                  f"belongs to {person['id']}")
        steps = [f"Set a recovery email the charity controls on "
                 f"{catalogue.platform(account['platform']).name}.",
                 f"Record it: 'accessgov account update {account['id']} --recovery-email "
                 "EMAIL' (this item then ticks itself)."]
    return _item("reassign", action, steps=steps, account=account["id"], field=field)


# -- working the list -------------------------------------------------------------------------

def mark_done(op: Operation, person_id: str, item_number: int,
              note: str | None = None) -> dict[str, Any]:
    """Tick one item of the person's open case by hand; closes the case when it was the last.
    Items the register can see settled tick themselves: ticking one by hand needs a note."""
    people.get(op.register, person_id)
    case = unfinished_case(op.register, person_id)
    if case is None:
        raise InputError(f"{person_id} has no open offboarding case")
    if case["status"] == "scheduled":
        raise InputError(f"{person_id}'s offboarding ({case['id']}) is scheduled for "
                         f"{case['leave_date']}; its checklist is made on that day")
    item = cases.item(op.register, case["id"], item_number)
    if item is None:
        raise NotFound(f"{case['id']} has no item {item_number}")
    refuse_if_done(item, item_number, case["id"])
    note = hand_tick_note(item, item_number, note, SELF_TICKING)
    account = accounts.get(op.register, item["account"]) if item["account"] else None
    # A tick says the leaver is off the platform: never by someone they put in place.
    authorise(op, "offboard.done", case["id"], account=account, benefits=(person_id,))
    _tick(op, case["id"], item_number, note)
    op.record("offboard.done", case["id"], person=person_id, item=item_number,
              kind=item["kind"], account=item["account"], note=note)
    _close_if_finished(op, case["id"], person_id, refuse_forged=True)
    return show_case(op.register, person_id)


def _tick(op: Operation, case_id: str, item: int, note: str | None) -> None:
    op.register.update("offboarding_items", {"case_id": case_id, "item": item}, {
        "status": "done", "done_by": op.actor, "done_at": op.at, "note": note})


def _close_if_finished(op: Operation, case_id: str, person_id: str, *,
                       refuse_forged: bool = False) -> bool:
    """Close the case when every item is done. The items are then counted against the case's
    sealed count and read through the checked path: items ticked or deleted behind the log
    (with sqlite3) are not done, so the case stays open; an approver's own tick that would
    close it is refused (`refuse_forged`), while a change that ticked an item by itself goes
    through and leaves the case open."""
    if cases.open_items(op.register, case_id):
        return False
    try:
        # None open by the count above: none missing against the case's sealed count (an
        # open item deleted behind the log), and each one checked.
        records.require_children(op.register, "offboarding_items", case_id)
        cases.items(op.register, case_id)
    except Tampered:
        if refuse_forged:
            raise
        return False
    op.register.update("offboarding_cases", {"id": case_id}, {
        "status": "closed", "closed_at": op.at, "closed_by": op.actor})
    op.record("offboard.close", case_id, person=person_id)
    return True


def tick_satisfied(op: Operation) -> None:
    """After every change: tick the open checklist items the change has satisfied (one
    indexed query of open items), and close the cases that have no item left to do."""
    settled = cases.satisfied_items(op.register)
    finished: dict[str, str] = {}
    for item in settled:
        # Read checked before it is ticked (the close reads it again): a forged item is
        # left open, for audit verify to name, and the change that settled it goes through.
        try:
            cases.item(op.register, item["case_id"], item["item"])
        except Tampered:
            continue
        if item["kind"] in ("rotate", "reseed"):
            note = f"done: version {item['current_version']} is now current"
        elif item["account_status"] == "archived":
            note = "done: the account was archived"
        else:
            note = f"done: the account's {item['field'].replace('_', ' ')} changed"
        _tick(op, item["case_id"], item["item"], note)
        op.record("offboard.tick", item["case_id"], person=item["person"], item=item["item"],
                  kind=item["kind"], account=item["account"], note=note)
        finished[item["case_id"]] = item["person"]
    for case_id, person in finished.items():
        _close_if_finished(op, case_id, person)


# -- coming back ------------------------------------------------------------------------------

def reinstate(op: Operation, person_id: str, *, board_minute: str | None = None
              ) -> dict[str, Any]:
    """Take back a leaver (or cancel an offboarding still scheduled).

    They come back with nothing: their grants and delegations stay revoked (grant access
    again through the usual approval), and their MFA was removed, so an approver invites them
    to enrol again. An open case ends as `reinstated`, its open items left as they were for
    the record; a scheduled one is `cancelled`. Reinstating a trustee or the CEO makes an
    approver again: a board minute, and never by themselves.
    """
    person = people.get(op.register, person_id)
    case = unfinished_case(op.register, person_id)
    if person["status"] != "left" and case is None:
        raise InputError(f"{person_id} has not left and is not being offboarded; there is "
                         "nothing to reinstate")
    minute = validate.text(board_minute, "board minute") if board_minute else None
    returning = rules.is_approver_category(person["category"]) and person["status"] == "left"
    decided = case["board_minute"] if case is not None else None
    authorise(op, "person.reinstate", person_id, concerned=person_id, board_minute=minute,
              promotes=returning, becomes=person["category"] if returning else None,
              benefits=(person_id,),
              minute_for=f"undoing an offboarding decided by board minute {decided!r}"
              if decided else None)
    open_items = 0
    if case is not None:
        open_items = cases.open_items(op.register, case["id"])
        op.register.update("offboarding_cases", {"id": case["id"]}, {
            "status": "cancelled" if case["status"] == "scheduled" else "reinstated",
            "closed_at": op.at, "closed_by": op.operator["id"]})
    if person["status"] == "left":
        op.register.update("people", {"id": person_id}, {
            "status": "active", "leave_date": None, "updated_at": op.at})
        op.record("person.reinstate", person_id, case=case["id"] if case else None,
                  left_on=person["leave_date"], open_items=open_items or None,
                  board_minute=minute)
    else:
        assert case is not None
        op.record("offboard.cancel", case["id"], person=person_id,
                  leave_date=case["leave_date"])
    return {"person": person_id, "case": case["id"] if case else None,
            "was": "left" if person["status"] == "left" else "scheduled",
            "open_items": open_items}

