"""accessgov check: the register (and the secret store) against the Social Media Policy."""

from __future__ import annotations

from typing import Any

import click

from accessgov.cli.app import App
from accessgov.cli.options import emit, table_width
from accessgov.cli.report import format_option, output_file_option, require_folder
from accessgov.errors import AccessGovError, ExitCode
from accessgov.governance.checks.base import SEVERITIES, Context

FORMATS = ("table", "json", "csv", "md")
COLUMNS = ("severity", "rule", "subject", "message", "heading")
RULE_COLUMNS = ("rule", "severity", "title", "heading")


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
        emit(_render(rules, fmt, RULE_COLUMNS, "Policy check rules", {}, output_file),
             output_file)
        return
    context = checks_context(app, store=not no_store)
    every = checks.run(context)
    shown = checks.at_or_above(every, severity)
    note = store_note(checks.store_reconciled(context, every), no_store)
    rows = [finding.as_dict() for finding in shown]
    if fmt == "json":
        from accessgov.reports.output import as_json

        emit(as_json({"threshold": severity, "store_checked": note.startswith("reconciled"),
                      "store_note": note, "counts": checks.counts(shown), "findings": rows}),
             output_file)
    else:
        verdict = {"organisation": app.register.setting("org") or "", "checked on": app.today(),
                   "threshold": severity, **{f"{level} findings": count for level, count
                                             in checks.counts(shown).items()},
                   "secret store": note}
        emit(_render(rows, fmt, COLUMNS, "Policy check", verdict, output_file), output_file)
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


def _render(rows: list[dict[str, Any]], fmt: str, columns: tuple[str, ...], title: str,
            verdict: dict[str, Any], output_file: str | None) -> str:
    from accessgov.reports import output

    if fmt == "csv":
        return output.as_csv(rows, columns)
    if fmt == "json":
        return output.as_json(rows)
    if fmt == "md":
        from accessgov.reports import documents

        sections = [("Findings", documents.records_table(rows, columns, "No findings."))]
        if verdict:
            sections.insert(0, ("Summary", documents.fields_table(verdict)))
        return documents.document(title, sections)
    # On a narrow terminal the heading goes first, then the subject; the message wraps.
    table = output.as_table(rows, columns, empty="No findings.", droppable=("heading", "subject")
                            if "message" in columns else (), width=table_width(output_file))
    if not verdict:
        return table
    summary = "; ".join(f"{key}: {value}" for key, value in verdict.items()
                        if key not in ("organisation", "checked on"))
    return f"{table}\n{output.visible(summary)}\n"
