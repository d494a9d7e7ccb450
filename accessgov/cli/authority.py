"""accessgov authority rules."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import emit_document, output_options

COLUMNS = ("action", "subject", "who", "conditions")


@click.group()
def authority() -> None:
    """Who may do what: the rule table every change is decided by."""


@authority.command("rules")
@output_options
@click.pass_obj
def rules(app: App, fmt: str, output_file: str | None) -> None:
    """Print the rule table: each action, what it acts on, who may do it and on what terms.

    It is the table accessgov itself decides by, printed for trustees to read and approve.
    """
    from accessgov.identity.authority import RULES
    from accessgov.reports.document import Document, Rows

    rules = [rule.describe() for rule in RULES.values()]
    emit_document(Document(rows=Rows(columns=COLUMNS, records=rules)), fmt, output_file)
