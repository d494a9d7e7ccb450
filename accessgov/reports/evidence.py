"""The access review's evidence pack for the Board, drawn: CSV (one line per item, the common
drawing), JSON (schemas/review-export.schema.json), Markdown, or one self-contained HTML page.

Draws only: it receives the pack as accessgov.governance.evidence builds it (anything with
its `columns`, `header`, `items` and `rows`), and reads from it only what the format needs,
so the CSV of 100,000 items builds no record per item and reads no header.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from accessgov.reports.document import Document, Renderer, Rows, Section, View

MARKDOWN_ITEMS = ("item", "account", "person", "person_name", "role", "approved_by",
                  "authority", "approval_note", "account_mfa", "person_mfa", "exposures",
                  "decision", "decided_by", "findings")
FINDING_COLUMNS = ("severity", "rule", "title", "subject", "message", "heading",
                   "cyber_essentials")
CHANGE_COLUMNS = ("account", "person", "person_name", "role", "grant_id")
REMOVED_COLUMNS = (*CHANGE_COLUMNS, "why")
DURING_COLUMNS = ("at", "change", "grant_id", "person", "account", "role", "decided_by",
                  "authority", "status_now")
ROLE_COLUMNS = ("account", "person", "person_name", "role_before", "role_after")
SHARED_COLUMNS = ("account", "platform", "handle", "owner", "controls", "recorded_by",
                  "recorded_at")


# Not a drawing: the pack drawn in each of BUNDLED, in a folder with their manifest
# (accessgov.governance.evidence_bundle writes and checks it).
FOLDER_FORMATS = frozenset({"bundle"})
BUNDLED = ("csv", "json", "md", "html")


def drawn_for_bundle(pack: Pack) -> dict[str, str]:
    """The pack drawn in each bundled format, by format."""
    from accessgov.reports.rendering import render

    return {fmt: render(document(pack), fmt) for fmt in BUNDLED}


class Pack(Protocol):
    """What the pack offers: its item columns, its header (campaign, summary, sign-off,
    changes, findings), its items as records, and its items as value tuples."""

    @property
    def columns(self) -> Sequence[str]:
        """The items' columns, in order."""

    def header(self) -> dict[str, Any]:
        """Everything but the items (see schemas/review-export.schema.json)."""

    def items(self) -> Iterator[Mapping[str, Any]]:
        """The items in order, as records."""

    def rows(self) -> Iterator[Sequence[Any]]:
        """The items in order, as value tuples in `columns` order."""


def document(pack: Pack) -> EvidencePack:
    """The evidence pack as a document."""
    return EvidencePack(pack=pack, rows=Rows(columns=pack.columns, values=pack.rows(), bom=True))


def _json(document: EvidencePack, _view: View) -> str:
    from accessgov.reports.formats import as_json

    # The JSON form (schemas/review-export.schema.json): items after the summary.
    return as_json(document.pack.header() | {"items": list(document.pack.items())})


def _markdown(document: EvidencePack, view: View) -> str:
    from accessgov.reports.rendering import draw_markdown

    header, items = document.pack.header(), list(document.pack.items())
    campaign, summary = header["campaign"], header["summary"]
    overview = {"organisation": header["organisation"], "status": campaign["status"],
                "started": f"{campaign['started_at']} by {campaign['started_by']}",
                "due": campaign["due"], "items": summary["items"], "kept": summary["kept"],
                "revoked": summary["revoked"], "not decided yet": summary["undecided"],
                **{f"{severity} findings": count
                   for severity, count in summary["findings"].items()},
                "snapshot SHA-256": campaign["snapshot_sha256"],
                "generated": header["generated_at"]}
    sections = [Section(heading="Summary", fields=overview), _sign_off(header["sign_off"]),
                _changes(header["changes"]), _during(header["during_review"]),
                Section(heading="Items", rows=Rows(columns=document.pack.columns,
                                                   records=items,
                                                   markdown_columns=MARKDOWN_ITEMS)),
                Section(heading="Findings of the policy checks",
                        rows=Rows(columns=FINDING_COLUMNS, records=header["findings"])),
                _shared(header["shared_logins"]),
                _population(header["population"])]
    title = f"Access review {campaign['id']}: evidence pack for the Board"
    return draw_markdown(Document(title=title, sections=sections), view)


def _population(population: Mapping[str, Any]) -> Section:
    head = population["audit_head"] or {}
    return Section(heading="How the population was produced", text=population["method"],
                   fields={"produced by": population["produced_by"] or "",
                           "accessgov version": population["accessgov_version"],
                           "generated at": population["generated_at"],
                           "items": population["items"],
                           "snapshot SHA-256": population["snapshot_sha256"],
                           "audit head event": head.get("seq", ""),
                           "audit head seal": head.get("mac", ""),
                           **{f"{name} rows": count
                              for name, count in population["row_counts"].items()}})


def _shared(shared: list[Mapping[str, Any]]) -> Section:
    heading = "Shared logins: recorded exceptions"
    if not shared:
        return Section(heading=heading, text="No account is a shared login: everyone has "
                                             "their own login and role.")
    records = [dict(row, controls=row["controls"] or "NO EXCEPTION RECORDED (SEC-008)")
               for row in shared]
    return Section(heading=heading, text="One login known to several people: each is accepted "
                   "only as an exception recorded by the CEO or a trustee, with what "
                   "compensates for it.", rows=Rows(columns=SHARED_COLUMNS, records=records))


def _sign_off(sign_off: Mapping[str, Any] | None) -> Section:
    if not sign_off:
        return Section(heading="Sign-off",
                       text="Not closed yet: this pack shows the review's progress only.")
    return Section(heading="Sign-off", fields={
        "closed by": f"{sign_off['closed_by_name']} ({sign_off['closed_by']})",
        "closed at": sign_off["closed_at"], "identity proved by": sign_off["verified_by"],
        "audit head event": sign_off["audit_head"]["seq"],
        "audit head seal": sign_off["audit_head"]["mac"]})


def _changes(changes: Mapping[str, Any]) -> Section:
    heading = "What changed since the previous review"
    if changes["previous"] is None:
        return Section(heading=heading, text="This is the first closed review to compare "
                                             "against: there is no earlier one.")
    return Section(heading=heading, fields={"compared with": changes["previous"]}, sections=[
        Section(heading="Added", rows=Rows(columns=CHANGE_COLUMNS, records=changes["added"])),
        Section(heading="Removed",
                rows=Rows(columns=REMOVED_COLUMNS, records=changes["removed"])),
        Section(heading="Roles changed",
                rows=Rows(columns=ROLE_COLUMNS, records=changes["role_changed"]))])


def _during(changes: list[Mapping[str, Any]]) -> Section:
    heading = "Grants changed during the review"
    if not changes:
        return Section(heading=heading, text="No grant was given, revoked or ran out while "
                                             "the review ran.")
    return Section(heading=heading, text="These happened after the items were taken, so they "
                                         "are not among them:",
                   rows=Rows(columns=DURING_COLUMNS, records=changes))


def _html(document: EvidencePack, _view: View) -> str:
    from accessgov.reports.html import render_html

    return render_html("review.html.j2", **document.pack.header(),
                       items=list(document.pack.items()),
                       change_columns=CHANGE_COLUMNS, removed_columns=REMOVED_COLUMNS,
                       role_columns=ROLE_COLUMNS,
                       during_columns=DURING_COLUMNS)


@dataclasses.dataclass(kw_only=True, eq=False)
class EvidencePack(Document):
    """The evidence pack: its items are its rows (CSV draws them as any rows); JSON, Markdown
    and HTML are drawn from the whole pack, read when drawn."""

    pack: Pack
    renderers: ClassVar[Mapping[str, Renderer]] = {"json": _json, "md": _markdown,
                                                   "html": _html}
