"""The access review's evidence pack for the Board: the campaign, each item with its decision,
the policy checks' findings, the sign-off and what changed since the previous review
(accessgov.reports.evidence draws it as CSV, JSON, Markdown or one HTML page).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from accessgov.db.queries import accounts, census, events, people
from accessgov.db.register import Register, Row
from accessgov.governance import review
from accessgov.governance.checks import registry as checks

if TYPE_CHECKING:
    from accessgov.db.ahead import ReadAhead, ReadNow

ITEM_COLUMNS = (*review.ITEM_COLUMNS, "findings")
SELF_REVIEW = "self-review"  # in an item's findings: decided by whoever approved the grant
_NONE: frozenset[str] = frozenset()


@dataclasses.dataclass
class Pack:
    """Everything the evidence pack shows (items are read when the pack is written)."""

    register: Register
    today: str
    generated_at: str
    campaign: Row
    findings: list[checks.Finding]
    store_checked: bool
    command: str = ""  # the command that made the pack, as typed
    # The items, asked for when the pack was built: the first drawing reads them.
    read_ahead: ReadAhead | ReadNow | None = dataclasses.field(default=None, repr=False)
    columns = ITEM_COLUMNS

    def items(self) -> Iterator[Row]:
        """The items in order, each with the rule ids of the findings about its grant, its
        person or its account."""
        for values in self.rows():
            yield dict(zip(ITEM_COLUMNS, values, strict=True))

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The items as value tuples in ITEM_COLUMNS order (no record per row: an export may
        hold 100,000)."""
        related = _findings_by_id(self.findings)
        grant, person, account, approver, decider = (
            review.ITEM_COLUMNS.index(name)
            for name in ("grant_id", "person", "account", "approved_by", "decided_by"))
        asked: Iterable[tuple[Any, ...]] | None = self.read_ahead
        self.read_ahead = None
        items = asked if asked is not None else review.item_rows(
            self.register, self.campaign["id"], self.today)
        for values in items:
            about = related.get(values[grant], _NONE) | related.get(values[person], _NONE) \
                | related.get(values[account], _NONE)
            # Someone reviewing a grant they approved themselves is marking their own work.
            own = [SELF_REVIEW] if values[decider] and values[decider] == values[approver] \
                else []
            yield (*values, " ".join([*sorted(about), *own]))

    def close(self) -> None:
        """Let go of items asked for and not drawn (a connection of their own)."""
        if self.read_ahead is not None:
            self.read_ahead.close()
            self.read_ahead = None

    def header(self) -> dict[str, Any]:
        """The pack without its items: campaign, summary, sign-off, changes, findings."""
        campaign = review.summary(self.campaign)
        progress = review.progress(self.register, self.campaign)
        previous = review.previous_closed(self.register, self.campaign)
        return {
            "organisation": self.register.setting("org") or "",
            "generated_at": self.generated_at,
            "campaign": campaign,
            "summary": progress | {"findings": checks.counts(self.findings)},
            "sign_off": _sign_off(self.register, campaign),
            "changes": review.changes_since(self.register, self.campaign, previous),
            "during_review": review.during(self.register, self.campaign, self.generated_at),
            "findings": [finding.as_dict() for finding in self.findings],
            "store_checked": self.store_checked,
            "population": self._population(campaign),
            "shared_logins": [_exception(row) for row in accounts.shared_logins(self.register)],
        }

    def _population(self, campaign: Row) -> dict[str, Any]:
        """How the items were produced and what the register held when the pack was made,
        so that an auditor can see the population is complete and reproduce it."""
        from accessgov import __version__

        head = events.head(self.register)
        counts = census.row_counts(self.register)
        return {
            "method": (f"Every grant live when the review was started ({campaign['started_at']}"
                       f" by {campaign['started_by']}), listed in one transaction; the "
                       "snapshot SHA-256 covers that list. Grants given or ended since are "
                       "under 'Grants changed during the review'."),
            "produced_by": self.command or None,
            "accessgov_version": __version__,
            "generated_at": self.generated_at,
            "items": campaign["items"],
            "snapshot_sha256": campaign["snapshot_sha256"],
            "audit_head": {"seq": head["seq"], "mac": head["mac"]} if head else None,
            "row_counts": {name: counts.get(name, 0)
                           for name in ("people", "accounts", "grants", "audit")},
        }


def build(register: Register, quarter: str, today: str, generated_at: str,
          context: checks.Context, command: str = "", *, read_ahead: bool = True) -> Pack:
    """The pack for campaign `quarter`, with the findings of every policy check now.

    `read_ahead`: the database reads the items while the checks run here (an export of
    90,000 items waits for the longer of the two, not both). Without it, the items are read
    when the pack is first drawn: a bundle is drawn only once the register has verified, from
    the register as it stood then."""
    campaign = review.get_campaign(register, quarter)
    items = review.item_rows_ahead(register, campaign, today) if read_ahead else None
    try:
        findings = checks.run(context)
        store_checked = checks.store_reconciled(context, findings)
    except BaseException:
        if items is not None:
            items.close()
        raise
    return Pack(register, today, generated_at, campaign, findings, store_checked, command,
                read_ahead=items)


def _findings_by_id(findings: Iterable[checks.Finding]) -> dict[str, set[str]]:
    related: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        for name in finding.related:
            related[name].add(finding.rule)
    return related


def _exception(row: Row) -> dict[str, Any]:
    """A shared login as the pack lists it: the recorded exception, or none."""
    return {"account": row["account"], "platform": row["platform"], "handle": row["handle"],
            "owner": row["owner"], "controls": row["controls"],
            "recorded_by": row["recorded_by"], "recorded_at": row["recorded_at"]}


def _sign_off(register: Register, campaign: Row) -> dict[str, Any] | None:
    if campaign["status"] != "closed":
        return None
    name = people.name(register, campaign["closed_by"])
    return {"closed_by": campaign["closed_by"], "closed_by_name": name,
            "closed_at": campaign["closed_at"], "verified_by": campaign["closed_verified_by"],
            "audit_head": {"seq": campaign["head_seq"], "mac": campaign["head_mac"]}}
