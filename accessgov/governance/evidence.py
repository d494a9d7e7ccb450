"""The access review's evidence pack for the Board: the campaign, each item with its decision,
the policy checks' findings, the sign-off and what changed since the previous review, as CSV,
JSON, Markdown or one self-contained HTML page.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from accessgov.db.queries import people
from accessgov.db.register import Register, Row
from accessgov.governance import review
from accessgov.governance.checks import registry as checks
from accessgov.reports import documents, output

FORMATS = ("csv", "json", "md", "html")
ITEM_COLUMNS = (*review.ITEM_COLUMNS, "findings")
_MARKDOWN_ITEMS = ("item", "account", "person", "person_name", "role", "approved_by",
                   "authority", "account_mfa", "person_mfa", "exposures", "decision",
                   "decided_by", "findings")
FINDING_COLUMNS = ("severity", "rule", "subject", "message", "heading")
_NONE: frozenset[str] = frozenset()
CHANGE_COLUMNS = ("account", "person", "person_name", "role", "grant_id")
ROLE_COLUMNS = ("account", "person", "person_name", "role_before", "role_after")


@dataclasses.dataclass
class Pack:
    """Everything the evidence pack shows (items are read when the pack is written)."""

    register: Register
    today: str
    generated_at: str
    campaign: Row
    findings: list[checks.Finding]
    store_checked: bool

    def items(self) -> Iterator[Row]:
        """The items in order, each with the rule ids of the findings about its grant, its
        person or its account."""
        for values in self.rows():
            yield dict(zip(ITEM_COLUMNS, values, strict=True))

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The items as value tuples in ITEM_COLUMNS order (no record per row: an export may
        hold 100,000)."""
        related = _findings_by_id(self.findings)
        grant, person, account = (review.ITEM_COLUMNS.index(name)
                                  for name in ("grant_id", "person", "account"))
        for values in review.item_rows(self.register, self.campaign["id"], self.today):
            about = related.get(values[grant], _NONE) | related.get(values[person], _NONE) \
                | related.get(values[account], _NONE)
            yield (*values, " ".join(sorted(about)))

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
            "findings": [finding.as_dict() for finding in self.findings],
            "store_checked": self.store_checked,
        }


def build(register: Register, quarter: str, today: str, generated_at: str,
          context: checks.Context) -> Pack:
    """The pack for campaign `quarter`, with the findings of every policy check now."""
    campaign = review.get_campaign(register, quarter)
    findings = checks.run(context)
    return Pack(register, today, generated_at, campaign, findings,
                checks.store_reconciled(context, findings))


def render(pack: Pack, fmt: str) -> str:
    """The pack in one of FORMATS."""
    if fmt == "csv":
        return output.csv_document(pack.rows(), ITEM_COLUMNS, bom=True)
    document = pack.header()
    items = list(pack.items())
    if fmt == "json":
        return output.as_json(_ordered(document, items))
    if fmt == "md":
        return _markdown(document, items)
    from accessgov.reports.html import render_html

    return render_html("review.html.j2", **document, items=items,
                       change_columns=CHANGE_COLUMNS, role_columns=ROLE_COLUMNS)


def _ordered(document: dict[str, Any], items: list[Row]) -> dict[str, Any]:
    """The JSON form (schemas/review-export.schema.json): items after the summary."""
    shown = dict(document)
    shown["items"] = items
    return shown


def _findings_by_id(findings: Iterable[checks.Finding]) -> dict[str, set[str]]:
    related: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        for name in finding.related:
            related[name].add(finding.rule)
    return related


def _sign_off(register: Register, campaign: Row) -> dict[str, Any] | None:
    if campaign["status"] != "closed":
        return None
    name = people.name(register, campaign["closed_by"])
    return {"closed_by": campaign["closed_by"], "closed_by_name": name,
            "closed_at": campaign["closed_at"], "verified_by": campaign["closed_verified_by"],
            "audit_head": {"seq": campaign["head_seq"], "mac": campaign["head_mac"]}}


def _markdown(document: dict[str, Any], items: list[Row]) -> str:
    campaign, summary, changes = document["campaign"], document["summary"], document["changes"]
    sign_off = document["sign_off"]
    overview = {"organisation": document["organisation"], "status": campaign["status"],
                "started": f"{campaign['started_at']} by {campaign['started_by']}",
                "due": campaign["due"], "items": summary["items"], "kept": summary["kept"],
                "revoked": summary["revoked"], "not decided yet": summary["undecided"],
                **{f"{severity} findings": count
                   for severity, count in summary["findings"].items()},
                "snapshot SHA-256": campaign["snapshot_sha256"],
                "generated": document["generated_at"]}
    signed = documents.fields_table({
        "closed by": f"{sign_off['closed_by_name']} ({sign_off['closed_by']})",
        "closed at": sign_off["closed_at"], "identity proved by": sign_off["verified_by"],
        "audit head event": sign_off["audit_head"]["seq"],
        "audit head seal": sign_off["audit_head"]["mac"]}) if sign_off else \
        "Not closed yet: this pack shows the review's progress only.\n"
    sections = [("Summary", documents.fields_table(overview)), ("Sign-off", signed),
                ("What changed since the previous review", _changes_markdown(changes)),
                ("Items", documents.records_table(items, _MARKDOWN_ITEMS)),
                ("Findings of the policy checks",
                 documents.records_table(document["findings"], FINDING_COLUMNS))]
    return documents.document(f"Access review {campaign['id']}: evidence pack for the Board",
                              sections)


def _changes_markdown(changes: dict[str, Any]) -> str:
    if changes["previous"] is None:
        return "This is the first closed review to compare against: there is no earlier one.\n"
    return (documents.fields_table({"compared with": changes["previous"]})
            + "\n### Added\n\n" + documents.records_table(changes["added"], CHANGE_COLUMNS)
            + "\n### Removed\n\n" + documents.records_table(changes["removed"], CHANGE_COLUMNS)
            + "\n### Roles changed\n\n"
            + documents.records_table(changes["role_changed"], ROLE_COLUMNS))
