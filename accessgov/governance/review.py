"""Quarterly access reviews, as recorded: campaigns, their items and decisions, their
progress, and what changed between two of them (the changes are in
`accessgov.governance.reviewing`).

A campaign is named by its quarter (`2026-Q4`). Its snapshot is the list of the grants live
the day it started (item N is the Nth grant, ordered by account), kept in the campaign's
sealed record; each item's details are read from the grant and its approval, which never
change, and its decision from review_decisions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from accessgov.db.queries import accounts, reviews
from accessgov.db.register import Register, Row
from accessgov.errors import InputError, NotFound

if TYPE_CHECKING:
    from accessgov.db.ahead import ReadAhead, ReadNow

DECISIONS = ("keep", "revoke")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")  # ASCII digits: \d also takes other scripts'

ITEM_COLUMNS = ("item", "grant_id", "account", "platform", "handle", "person", "person_name",
                "person_status", "role", "grant_status", "expires", "approved_by",
                "approved_at", "authority", "approval_note", "account_mfa", "person_mfa",
                "exposures", "decision", "decided_by", "decided_at", "decided_authority", "note")
CAMPAIGN_COLUMNS = ("id", "status", "started_by", "started_at", "due", "items", "decided",
                    "snapshot_sha256", "closed_by", "closed_at", "closed_verified_by",
                    "revoked", "head_seq", "head_mac")


# -- reading ------------------------------------------------------------------------------------

def quarter_of(day: str) -> str:
    """The quarter a date falls in: 2026-11-25 -> 2026-Q4."""
    date = dt.date.fromisoformat(day)
    return f"{date.year}-Q{(date.month - 1) // 3 + 1}"


def check_quarter(quarter: str) -> str:
    """`quarter` if it is written like 2026-Q4, else InputError."""
    if not _QUARTER.fullmatch(quarter):
        raise InputError(f"a review is named by its quarter, written like 2026-Q4, not "
                         f"{quarter!r}")
    return quarter


def get_campaign(register: Register, quarter: str) -> Row:
    """The campaign row (as stored, seal included), or NotFound naming the ones there are."""
    check_quarter(quarter)
    campaign = reviews.get(register, quarter)
    if campaign is None:
        known = reviews.ids(register)
        there = f" (there are: {', '.join(known)})" if known else \
            " (none has been started: 'accessgov review start')"
        raise NotFound(f"there is no access review {quarter}{there}")
    return campaign


def current_campaign(register: Register) -> Row:
    """The open campaign, else the latest one started; NotFound if there is none."""
    found = reviews.current(register)
    if found is None:
        raise NotFound("no access review has been started yet: 'accessgov review start'")
    return found


def summary(campaign: Row) -> Row:
    """The campaign's record for people and JSON: without the snapshot list itself."""
    return {column: campaign[column] for column in CAMPAIGN_COLUMNS}


def list_campaigns(register: Register) -> list[Row]:
    """Every campaign, newest first, with its progress."""
    return [summary(row) for row in reviews.listing(register)]


def items(register: Register, quarter: str, today: str, *,
          account: str | None = None) -> Iterator[Row]:
    """The campaign's items in order, one at a time (a campaign may hold 100,000); on one
    account, if given (NotFound if there is no such account)."""
    if account is not None:
        accounts.get(register, account)
    return reviews.items(register, quarter, today, account=account)


def item_rows(register: Register, quarter: str, today: str) -> Iterator[tuple[Any, ...]]:
    """The campaign's items as plain value tuples in ITEM_COLUMNS order, for exports of
    100,000 items that need no record per row."""
    return reviews.item_tuples(register, quarter, today)


def item_rows_ahead(register: Register, campaign: Row, today: str) -> ReadAhead | ReadNow:
    """`item_rows` of the campaign, asked for now: the database reads them while the caller
    does other work; iterate once, or close."""
    return reviews.item_tuples_ahead(register, campaign["id"], today, campaign["items"])


def progress(register: Register, campaign: Row) -> dict[str, int]:
    """How many items there are, and how many are kept, revoked and still to decide."""
    counts = reviews.decision_counts(register, campaign["id"])
    kept, revoked = counts.get("keep", 0), counts.get("revoke", 0)
    return {"items": campaign["items"], "kept": kept, "revoked": revoked,
            "undecided": campaign["items"] - kept - revoked}


def previous_closed(register: Register, campaign: Row) -> Row | None:
    """The last campaign closed before this one started."""
    return reviews.previous_closed(register, campaign)


def changes_since(register: Register, campaign: Row, previous: Row | None) -> dict[str, Any]:
    """What changed between the previous closed campaign's snapshot and this one's: grants
    added, removed, and roles changed (a person's role on an account)."""
    if previous is None:
        return {"previous": None, "added": [], "removed": [], "role_changed": []}
    before, after = _holdings(register, previous["id"]), _holdings(register, campaign["id"])
    added = [after[key] for key in sorted(after.keys() - before.keys())]
    removed = [before[key] for key in sorted(before.keys() - after.keys())]
    ended = reviews.endings(register, [row["grant_id"] for row in removed])
    removed = [row | {"why": _why_removed(ended.get(row["grant_id"]))} for row in removed]
    changed = [{"account": key[0], "person": key[1], "person_name": after[key]["person_name"],
                "role_before": before[key]["role"], "role_after": after[key]["role"],
                "grant_before": before[key]["grant_id"], "grant_after": after[key]["grant_id"]}
               for key in sorted(before.keys() & after.keys())
               if before[key]["role"] != after[key]["role"]]
    return {"previous": previous["id"], "added": added, "removed": removed,
            "role_changed": changed}


def _why_removed(grant: Row | None) -> str:
    """Why a grant of the previous review is no longer held, in words."""
    if grant is None:
        return "not in the register"
    if grant["status"] == "revoked":
        return (f"revoked on {grant['revoked_at'][:10]} by {grant['revoked_by']}: "
                f"{grant['revoke_reason']}")
    if grant["status"] == "expired" or grant["expires"]:
        return f"expired on {grant['expires']}"
    if grant["person_status"] == "left":
        return f"the person left on {grant['leave_date']}"
    return f"now {grant['status']}"


def _holdings(register: Register, quarter: str) -> dict[tuple[str, str], Row]:
    """(account, person) -> the grant held in a campaign's snapshot."""
    return {(row["account"], row["person"]): row for row in reviews.holdings(register, quarter)}


def during(register: Register, campaign: Row, now: str) -> list[Row]:
    """Grants approved, revoked or run out while the review ran (from its start to its close,
    or to `now` while it is open): the items were taken at the start, so these are not among
    them, and the Board sees them here."""
    end = campaign["closed_at"] or now
    return reviews.grant_changes_between(register, campaign["started_at"], end)

