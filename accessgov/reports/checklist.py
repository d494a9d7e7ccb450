"""The offboarding checklist, rendered: for the terminal, and as CSV, Markdown or HTML to file.

Renders only: it receives the case as `accessgov offboard show --format json` describes it
(schemas/offboard-show.schema.json) and returns text. Every format keeps every item, with
the platform steps and who ticked it when.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from accessgov.reports.output import as_csv, as_markdown, visible

FORMATS = ("csv", "json", "md", "html")
ITEM_COLUMNS = ("case", "person", "item", "status", "kind", "account", "platform", "handle",
                "action", "steps", "done_by", "done_at", "note")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such
# cells get a leading apostrophe, which spreadsheets show as plain text.
_FORMULA = re.compile(r"^[=+\-@\t\r]")

Case = Mapping[str, Any]


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
    for item in case["items"]:
        box = "[x]" if item["status"] == "done" else "[ ]"
        lines.append(f"\n{item['item']:>3}. {box} {visible(item['action'])}")
        lines += [f"        - {visible(step)}" for step in item["steps"]]
        if item["status"] == "done":
            note = f": {visible(item['note'])}" if item["note"] else ""
            lines.append(f"        done {item['done_at']} by {item['done_by']}{note}")
    return "\n".join(lines) + "\n"


def item_rows(case: Case) -> list[dict[str, Any]]:
    """One flat row per item, with the case and person on each (for CSV and Markdown)."""
    return [{"case": case["case"], "person": case["person"], **item,
             "steps": " / ".join(item["steps"])} for item in case["items"]]


def _defused(value: Any) -> Any:
    return f"'{value}" if isinstance(value, str) and _FORMULA.match(value) else value


def csv(case: Case) -> str:
    """CSV for a spreadsheet: UTF-8 with a byte-order mark (so Excel reads it as UTF-8), one
    row per item, formula-like cells defused."""
    rows = [{key: _defused(value) for key, value in row.items()} for row in item_rows(case)]
    return "\ufeff" + as_csv(rows, ITEM_COLUMNS)


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


def render(case: Case, fmt: str) -> str:
    """The case in one of FORMATS but JSON (the caller writes JSON itself)."""
    renderers = {"csv": csv, "md": markdown, "html": html}
    return renderers[fmt](case)
