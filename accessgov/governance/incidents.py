"""Incidents: an account compromised, a phone with access lost, a post that should not have
gone out, and the numbered checklist of what to do about it.

The policy's "Reporting Non-Compliance" and "Non-Compliance" headings: what went wrong is
recorded, the damage is contained, and the Board decides whether it is a serious incident to
report to the Charity Commission. The register knows which credentials could be known (by
whom, which version), which seeds make codes, who holds access and who is accountable, so
opening an incident writes the checklist from it, as offboarding does:

- each credential of the account (or, for a person, each whose current version they could
  know) to rotate, and each TOTP seed to re-seed: these tick themselves when the new version
  is stored;
- the sessions to end and the recovery email, phone and codes to check on the platform;
- each live grant on the account (or of the person) to review: ticks itself once it ends;
- a person's own accessgov MFA to reset, for a lost phone: ticks itself on `mfa reset`;
- who to tell: the CEO and the trustees;
- the decision "report to the Charity Commission as a serious incident: yes or no, and why",
  which only the CEO or a trustee records (`incident decide`).

Anyone in scope may open one (a volunteer who lost their phone must be able to say so);
approvers work it; the CEO or a trustee closes it once every item is done.
"""

from __future__ import annotations

import json
from typing import Any

from accessgov.access import catalogue
from accessgov.common import validate
from accessgov.db.queries import accounts, credentials, mfa, people, records, reminders
from accessgov.db.queries import grants as grant_rows
from accessgov.db.queries import incidents as rows
from accessgov.db.register import Register, Row
from accessgov.db.seals import strip
from accessgov.errors import InputError, NotFound
from accessgov.governance.ticking import hand_tick_note, refuse_if_done
from accessgov.identity.authority import authorise
from accessgov.operation import Operation

KINDS = ("compromised", "device-lost", "wrong-post", "other")
# Items the register can see settled: they tick themselves (see tick_satisfied).
SELF_TICKING = ("rotate", "reseed", "operator-mfa", "grant")
DECISION = "decision"


# -- reading ----------------------------------------------------------------------------------

def show(register: Register, incident_id: str) -> dict[str, Any]:
    """The incident with its numbered checklist (schemas/incident-show)."""
    incident = strip(rows.get(register, incident_id))
    incident.pop("num", None)
    incident.pop("counts", None)
    incident["items"] = [_item_view(item) for item in rows.items(register, incident_id)]
    return incident


def _item_view(item: Row) -> dict[str, Any]:
    view = strip(item)
    view.pop("incident_id", None)
    view["steps"] = json.loads(view["steps"])
    return view


def list_incidents(register: Register, *, open_only: bool = False) -> list[Row]:
    """Incidents, newest first."""
    return rows.listing(register, open_only=open_only)


# -- opening ----------------------------------------------------------------------------------

def open_incident(op: Operation, subject: str, kind: str, summary: str) -> dict[str, Any]:
    """Record an incident about an account or a person, with its checklist."""
    kind = validate.one_of(kind, KINDS, "--kind")
    summary = validate.text(summary, "--summary")
    subject_kind, target = _subject(op.register, subject)
    authorise(op, "incident.open", subject)
    enrolled = mfa.state(op.register, op.operator["id"])
    if op.trust.events.signed or (enrolled is not None and enrolled["status"] == "confirmed"):
        from accessgov.identity.proof import prove

        prove(op)  # whoever can prove who they are does: an incident names its opener
    incident_id, number = op.next_id("incidents", "I")
    op.register.insert("incidents", {
        "id": incident_id, "num": number, "subject_kind": subject_kind, "subject": subject,
        "kind": kind, "summary": summary, "status": "open", "opened_by": op.operator["id"],
        "opened_at": op.at,
        "opened_verified_by": op.proof.describe() if op.proof else "not verified"})
    items = (_account_checklist(op, target, kind) if subject_kind == "account"
             else _person_checklist(op, target, kind))
    items = [*items, *_telling(op.register), _decision_item(incident_id)]
    for number_, item in enumerate(items, start=1):
        op.register.insert("incident_items", {
            "incident_id": incident_id, "item": number_, "status": "open",
            **item, "steps": json.dumps(item["steps"])})
    op.record("incident.open", incident_id, about=subject, about_kind=subject_kind,
              kind=kind, summary=summary, items=len(items))
    return show(op.register, incident_id)


def _subject(register: Register, subject: str) -> tuple[str, Row]:
    if accounts.exists(register, subject):
        return "account", accounts.get(register, subject)
    try:
        return "person", people.get(register, subject)
    except NotFound:
        raise NotFound(f"there is no account or person {subject!r} in the register") from None


def _item(kind: str, action: str, steps: list[str], **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "action": action, "steps": steps, **fields}


def _account_checklist(op: Operation, account: Row, kind: str) -> list[dict[str, Any]]:
    platform = catalogue.platform(account["platform"])
    where = f"{account['id']} ({platform.name} {account['handle']})"
    items = [_rotation(account, credential, "(whoever could know it)")
             for credential in credentials.listing(op.register, account["id"])]
    items.append(_item("sessions", f"End every signed-in session on {where}", [
        f"On {platform.name}, sign out of all other sessions and devices, and remove apps "
        "and integrations nobody recognises.",
        "Tick this item with 'accessgov incident done' once it is done."], account=account["id"]))
    recovery = ", ".join(value for value in (account["recovery_email"],
                                             account["recovery_phone"]) if value) or "none recorded"
    items.append(_item("recovery", f"Check the recovery email, phone and codes of {where} "
                       f"(recorded: {recovery})", [
        "Check the recovery email and phone on the platform are the charity's, and change "
        "any that are not (record them with 'accessgov account update').",
        "Generate new recovery codes and store them with 'accessgov cred set/rotate "
        f"{account['id']} --kind recovery-codes'."], account=account["id"]))
    for grant in grant_rows.live_on(op.register, account["id"], op.today):
        items.append(_grant_item(grant, account["id"], kind))
    return items


def _person_checklist(op: Operation, person: Row, kind: str) -> list[dict[str, Any]]:
    items = []
    for known in credentials.current_versions_known_by(op.register, person["id"]):
        account = accounts.get(op.register, known["account"])
        items.append(_rotation(account, {"kind": known["kind"], "version": known["version"]},
                               f"({person['id']} could know version {known['version']})"))
    enrolment = mfa.state(op.register, person["id"])
    if enrolment is not None and enrolment["status"] == "confirmed" and kind == "device-lost":
        items.append(_item("operator-mfa", f"Reset {person['id']}'s own accessgov MFA (their "
                           "authenticator app may be on the lost device)", [
            f"'accessgov mfa reset {person['id']}' (this item then ticks itself), then invite "
            "them to enrol again on their new phone."],
            person=person["id"], version=enrolment["seed_version"]))
    for grant in grant_rows.held_or_asked(op.register, today=op.today, person=person["id"]):
        if grant.get("status") == "active":
            items.append(_grant_item(dict(grant, person=person["id"]), grant["account"], kind))
            platform = catalogue.platform(accounts.get(op.register, grant["account"])["platform"])
            items.append(_item("sessions", f"End {person['id']}'s sessions on "
                               f"{grant['account']} ({platform.name})", [
                f"On {platform.name}, sign {person['id']} out of every session and device, or "
                "remove and re-add them once their new device is safe.",
                "Tick this item with 'accessgov incident done' once it is done."],
                account=grant["account"], person=person["id"]))
    return items


def _rotation(account: Row, credential: Row, who: str) -> dict[str, Any]:
    command = f"accessgov cred rotate {account['id']} --kind {credential['kind']}"
    if credential["kind"] == "totp-seed":
        return _item("reseed", f"Re-seed the MFA of {account['id']} {who}", [
            f"Turn two-factor authentication off and on again on {account['handle']}, so the "
            "old seed stops working.", f"Store the new seed with '{command}' (this item then "
            "ticks itself)."], account=account["id"], credential_kind="totp-seed",
            version=credential["version"])
    return _item("rotate", f"Rotate the {credential['kind']} of {account['id']} {who}", [
        f"Change the {credential['kind']} of {account['handle']} on the platform.",
        f"Store the new one with '{command}' (this item then ticks itself)."],
        account=account["id"], credential_kind=credential["kind"],
        version=credential["version"])


def _grant_item(grant: Row, account: str, kind: str) -> dict[str, Any]:
    why = "could they have caused it, and do they still need it?" if kind != "device-lost" \
        else "keep it only once their device is safe"
    return _item("grant", f"Review {grant['id']}: {grant['person']}'s {grant['role']} access to "
                 f"{account} ({why})", [
        f"Revoke it with 'accessgov grant revoke {grant['id']} --reason ...' (this item then "
        "ticks itself), or keep it and tick this item with 'accessgov incident done' and a "
        "note saying why."], account=account, grant_id=grant["id"], person=grant["person"])


def _telling(register: Register) -> list[dict[str, Any]]:
    board = reminders.board(register)
    ceo = [row for row in board if row["category"] == "ceo"]
    trustees = [row for row in board if row not in ceo]
    items = []
    if ceo:
        items.append(_item("tell", f"Tell the CEO, {ceo[0]['name']} ({ceo[0]['email']})", [
            "Tell them what happened and what has been done; tick this item once they know."],
            person=ceo[0]["id"]))
    names = ", ".join(f"{row['name']} ({row['email']})" for row in trustees) or "the trustees"
    items.append(_item("tell", f"Tell the Chair of Trustees (trustees: {names})", [
        "The Chair decides with the CEO whether the Board must meet; tick this item once "
        "they know."]))
    return items


def _decision_item(incident_id: str) -> dict[str, Any]:
    return _item(DECISION, "Decide whether to report this to the Charity Commission as a "
                 "serious incident, and record why", [
        f"The CEO or a trustee records it: 'accessgov incident decide {incident_id} --report "
        "yes|no --reason \"...\"' (this item then ticks itself). The Commission's guidance: "
        "https://www.gov.uk/guidance/how-to-report-a-serious-incident-in-your-charity"])


# -- working the list -------------------------------------------------------------------------

def mark_done(op: Operation, incident_id: str, number: int, note: str | None) -> Row:
    """Tick one item by hand (an approver; those that tick themselves need a note)."""
    incident = _open(op.register, incident_id)
    item = rows.item(op.register, incident_id, number)
    refuse_if_done(item, number, incident_id)
    if item["kind"] == DECISION:
        raise InputError(f"item {number} is the decision on reporting: record it with "
                         f"'accessgov incident decide {incident_id} --report yes|no --reason "
                         "...'")
    note = hand_tick_note(item, number, note, SELF_TICKING)
    account = accounts.get(op.register, item["account"]) if item["account"] else None
    authorise(op, "incident.done", incident_id, account=account)
    _tick(op, incident_id, number, note)
    op.record("incident.done", incident_id, item=number, kind=item["kind"],
              account=item["account"], note=note)
    return incident


def decide(op: Operation, incident_id: str, report: str, reason: str) -> None:
    """Record the Board's decision on reporting to the Charity Commission."""
    _open(op.register, incident_id)
    report = validate.one_of(report, ("yes", "no"), "--report")
    reason = validate.text(reason, "--reason")
    authority = authorise(op, "incident.decide", incident_id)
    op.register.update("incidents", {"id": incident_id}, {
        "report": report, "report_reason": reason, "decided_by": op.operator["id"],
        "decided_at": op.at, "decided_authority": str(authority)})
    for item in rows.items(op.register, incident_id):
        if item["kind"] == DECISION and item["status"] == "open":
            _tick(op, incident_id, item["item"], f"report: {report} ({reason})")
    op.record("incident.decide", incident_id, report=report, reason=reason,
              authority=str(authority))


def close(op: Operation, incident_id: str) -> None:
    """Close an incident whose every item is done (the CEO or a trustee)."""
    _open(op.register, incident_id)
    authorise(op, "incident.close", incident_id)
    # Each item through the checked path: an item ticked behind the log is refused, not
    # counted as done (the decision on reporting, say).
    left = sum(1 for item in rows.items(op.register, incident_id) if item["status"] == "open")
    if left:
        raise InputError(f"{incident_id} still has {left} item(s) to do ('accessgov incident "
                         f"show {incident_id}')")
    op.register.update("incidents", {"id": incident_id}, {
        "status": "closed", "closed_by": op.operator["id"], "closed_at": op.at})
    op.record("incident.close", incident_id)


def _open(register: Register, incident_id: str) -> Row:
    """The open incident, its checklist whole (an item deleted behind the log, say the
    decision on reporting, would let it close without that item: refused)."""
    incident = rows.get(register, incident_id)
    if incident["status"] != "open":
        raise InputError(f"{incident_id} is closed ({incident['closed_at'][:10]})")
    records.require_children(register, "incident_items", incident_id)
    return incident


def _tick(op: Operation, incident_id: str, number: int, note: str | None) -> None:
    op.register.update("incident_items", {"incident_id": incident_id, "item": number}, {
        "status": "done", "done_by": op.actor, "done_at": op.at, "note": note})


def tick_satisfied(op: Operation) -> None:
    """After every change: tick the items it has settled (nothing to read when no incident
    is open)."""
    if not rows.any_open(op.register):
        return
    for item in rows.satisfied_items(op.register):
        if item["kind"] in ("rotate", "reseed"):
            note = f"done: version {item['current_version']} is now current"
        elif item["kind"] == "grant":
            note = f"done: the grant is {item['grant_status']}"
        else:
            note = "done: their MFA was reset"
        _tick(op, item["incident_id"], item["item"], note)
        op.record("incident.tick", item["incident_id"], item=item["item"], kind=item["kind"],
                  note=note)
