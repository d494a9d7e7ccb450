"""The offboarding checklist, drawn: for the terminal, and as Markdown or HTML to file (JSON
is the case itself, CSV its items, as any document's).

Draws only: it receives the case as `accessgov offboard show --format json` describes it
(schemas/offboard-show.schema.json) and returns text. Every format keeps every item, with
the platform steps and who ticked it when.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from accessgov.reports.document import Document, Renderer, Rows
from accessgov.reports.tables import as_markdown
from accessgov.reports.text import visible

ITEM_COLUMNS = ("case", "person", "item", "status", "kind", "account", "platform", "handle",
                "action", "steps", "done_by", "done_at", "note")

Case = Mapping[str, Any]


def document(case: Case, *, bom: bool = False) -> Checklist:
    """The case as a document: JSON is the case, CSV one line per item (`bom`: with a
    byte-order mark, for a spreadsheet), the other formats the checklist drawn here."""
    return Checklist(case=case, payload=case,
                     rows=Rows(columns=ITEM_COLUMNS, records=item_rows(case), bom=bom))


def _facts(case: Case) -> list[tuple[str, str]]:
    """The case's own fields, in reading order, as (label, value) for the documents."""
    facts = [("Person", f"{case['name']} ({case['person']})"), ("Case", case["case"]),
             ("Status", case["status"]), ("Leave date", case["leave_date"]),
             ("Reason", case["reason"] or ""),
             ("Started by", f"{case['started_by']} ({case['authority']}) at "
                            f"{case['started_at']}"),
             ("Board minute", case["board_minute"] or ""),
             ("Carried out at", case["carried_out_at"] or "not yet (scheduled)"),
             ("Closed at", f"{case['closed_at']} by {case['closed_by']}"
                           if case["closed_at"] else ""),
             ("Items", f"{case['items_total']} ({case['items_open']} still to do)")]
    return [(label, value) for label, value in facts if value]


def text(case: Case) -> str:
    """The checklist for a terminal: the case, then each item numbered, its steps below."""
    lines = [f"{label}: {visible(str(value))}" for label, value in _facts(case)]
    if case["status"] == "scheduled":
        lines.append(f"\nThe checklist is made on {case['leave_date']}, when the offboarding "
                     "is carried out.")
    lines.append(numbered_items(case["items"]))
    return "\n".join(lines)


def numbered_items(items: list[Mapping[str, Any]]) -> str:
    """Each item numbered with its box, its steps below, and who ticked it when (the
    checklists of offboarding and of incidents alike)."""
    lines = []
    for item in items:
        box = "[x]" if item["status"] == "done" else "[ ]"
        lines.append(f"\n{item['item']:>3}. {box} {visible(item['action'])}")
        lines += [f"        - {visible(step)}" for step in item["steps"]]
        if item["status"] == "done":
            note = f": {visible(item['note'])}" if item["note"] else ""
            lines.append(f"        done {item['done_at']} by {item['done_by']}{note}")
    return "\n".join(lines) + "\n" if lines else ""


INCIDENT_ITEM_COLUMNS = ("incident", "item", "status", "kind", "account", "person", "action",
                         "steps", "done_by", "done_at", "note")


def incident_document(incident: Mapping[str, Any], *, bom: bool = False) -> Document:
    """An incident: its fields then its numbered checklist for the terminal; JSON is the
    incident, CSV one line per item, Markdown and HTML the fields and the items' table."""
    facts = {key: value for key, value in incident.items() if key != "items"}
    items = [dict(item, incident=incident["id"], steps=" / ".join(item["steps"]))
             for item in incident["items"]]
    lines = [f"{key.replace('_', ' ')}: {visible(str(value))}"
             for key, value in facts.items() if value is not None]
    return Document(title=f"Incident {incident['id']}", record=facts, payload=incident,
                    rows=Rows(columns=INCIDENT_ITEM_COLUMNS, records=items, bom=bom,
                              heading="Checklist"),
                    text="\n".join(lines) + "\n" + numbered_items(incident["items"]))


def item_rows(case: Case) -> list[dict[str, Any]]:
    """One flat row per item, with the case and person on each (for CSV and Markdown)."""
    return [{"case": case["case"], "person": case["person"], **item,
             "steps": " / ".join(item["steps"])} for item in case["items"]]


def markdown(case: Case) -> str:
    """A Markdown document: the case as a list, the items as a GitHub table."""
    lines = [f"# Offboarding checklist: {_md(case['name'])} ({case['person']})", ""]
    lines += [f"- **{label}**: {_md(str(value))}" for label, value in _facts(case)]
    lines += ["", as_markdown(item_rows(case), ("item", "status", "action", "steps",
                                                "done_by", "done_at", "note")).rstrip("\n"),
              ""]
    return "\n".join(lines)


def _md(value: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|~&!#])", r"\\\1", visible(value))


def html(case: Case) -> str:
    """A self-contained HTML page (no scripts, no outside resources), autoescaped."""
    from importlib import resources

    import jinja2  # only this format needs it

    source = resources.files("accessgov.reports").joinpath(
        "templates/offboarding.html.j2").read_text(encoding="utf-8")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                                     keep_trailing_newline=True)
    return environment.from_string(source).render(case=case, facts=_facts(case))


@dataclasses.dataclass(kw_only=True, eq=False)
class Checklist(Document):
    """An offboarding case: its own drawing for the terminal, Markdown and HTML."""

    case: Case
    renderers: ClassVar[Mapping[str, Renderer]] = {
        "table": lambda document, _view: text(document.case),
        "md": lambda document, _view: markdown(document.case),
        "html": lambda document, _view: html(document.case)}
