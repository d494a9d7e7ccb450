"""accessgov check: the register (and the secret store) against the Social Media Policy."""

from __future__ import annotations

from typing import Any

import click

from accessgov.cli.app import App
from accessgov.cli.options import emit_document
from accessgov.cli.report import format_option, output_file_option, require_folder
from accessgov.errors import AccessGovError, ExitCode
from accessgov.governance.checks.base import SEVERITIES, Context
from accessgov.reports.document import Document, Rows

FORMATS = ("table", "json", "csv", "md")
COLUMNS = ("severity", "rule", "title", "subject", "message", "heading", "cyber_essentials")
RULE_COLUMNS = ("rule", "severity", "title", "heading", "cyber_essentials")


@click.command()
@click.option("--severity", type=click.Choice(SEVERITIES), default="low", show_default=True,
              help="Report only findings this serious or worse; exit 1 only for them.")
@format_option(FORMATS)
@output_file_option
@click.option("--list-rules", is_flag=True,
              help="List every rule with its severity and the policy heading it enforces.")
@click.option("--no-store", is_flag=True,
              help="Check the register alone: skip the reconciliation with the secret store.")
@click.pass_obj
def check(app: App, severity: str, fmt: str, output_file: str | None, list_rules: bool,
          no_store: bool) -> None:
    """Check the register against the Social Media Policy; exit 1 if anything is found.

    Each finding names its rule, how serious it is, what it is about, what to do, and the
    heading of the policy it enforces. The secret store is reconciled with the register too
    (secrets nobody recorded, records whose secret is gone) when it can be reached; if it
    cannot, that is itself a finding. --no-store checks the register alone, with no store
    contacted (e.g. on a computer without the Vault token).
    """
    from accessgov.governance.checks import registry as checks

    require_folder(output_file)
    if list_rules:
        rules = [rule.describe() for rule in checks.all_rules()]
        emit_document(Document(title="Policy check rules", rows=_findings(rules, RULE_COLUMNS)),
                      fmt, output_file)
        return
    context = checks_context(app, store=not no_store)
    every = checks.run(context)
    shown = checks.at_or_above(every, severity)
    note = store_note(checks.store_reconciled(context, every), no_store)
    rows = [finding.as_dict() for finding in shown]
    # The summary counts every finding, whatever the threshold shows: a Board reading only
    # the high ones still learns how many others wait.
    counts = checks.counts(every)
    verdict = {"organisation": app.register.setting("org") or "", "checked on": app.today(),
               "threshold": severity,
               **{f"{level} findings": count for level, count in counts.items()},
               "secret store": note}
    # Under the table, the verdict on one line (the organisation and the day go without
    # saying at a terminal).
    line = "; ".join(f"{key}: {value}" for key, value in verdict.items()
                     if key not in ("organisation", "checked on"))
    emit_document(Document(
        title="Policy check", summary=verdict, rows=_findings(rows, COLUMNS), after=("", line),
        payload={"threshold": severity, "store_checked": note.startswith("reconciled"),
                 "store_note": note, "counts": counts, "findings": rows}), fmt, output_file)
    if shown:
        click.get_current_context().exit(ExitCode.FINDINGS)


def checks_context(app: App, *, store: bool) -> Context:
    """What the checks read: the register, and the secret store unless told not to (a store
    that cannot even be opened is noted, and reported as a finding)."""
    context = Context(app.register, app.today())
    if not store:
        return context
    from accessgov.secrets.config import BackendConfig, open_backend

    try:
        factory = app.backend_factory or open_backend
        context.store = factory(BackendConfig.from_settings(app.register.settings()))
    except AccessGovError as error:
        context.store_problem = str(error)
    return context


def store_note(reconciled: bool, skipped: bool) -> str:
    """Whether the secret store was reconciled with the register, in words."""
    if skipped:
        return "not checked (--no-store)"
    return "reconciled with the register" if reconciled else \
        "could not be checked (see STO-003)"


def _findings(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Rows:
    # On a narrow terminal the heading goes first, then the subject; the message wraps.
    return Rows(columns=columns, records=rows, heading="Findings", empty="No findings.",
                markdown_empty="No findings.",
                droppable=("cyber_essentials", "title", "heading", "subject")
                if "message" in columns else ("cyber_essentials",))
