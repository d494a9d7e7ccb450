"""accessgov incident open / show / list / done / decide / close / export."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options
from accessgov.cli.params import WholeNumber

LIST_COLUMNS = ("id", "subject_kind", "subject", "kind", "summary", "status", "opened_by",
                "opened_at", "report", "open_items", "closed_at")
TABLE_COLUMNS = ("id", "subject", "kind", "status", "opened_at", "report", "open_items")
EXPORT_FORMATS = ("csv", "json", "md", "html")
KINDS = ("compromised", "device-lost", "wrong-post", "other")  # incidents.KINDS


@click.group()
def incident() -> None:
    """Incidents: an account compromised, a device lost, a wrong post; the checklist of what
    to do, and the decision on reporting to the Charity Commission."""


@incident.command("open")
@click.argument("subject", metavar="ACCOUNT|PERSON")
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What happened.")
@click.option("--summary", required=True, help="What happened, in a sentence or two.")
@otp_option
@click.pass_obj
def open_(app: App, subject: str, kind: str, summary: str, otp: str | None) -> None:
    """Report an incident about an account or a person (anyone in scope may); prints the
    numbered checklist the register makes for it."""
    from accessgov.governance.incidents import open_incident
    from accessgov.reports.checklist import incident_document

    found = app.change(lambda op: open_incident(op, subject, kind, summary), otp=otp)
    done(f"Opened {found['id']} ({kind}, {subject}): {len(found['items'])} items to do "
         f"('accessgov incident done {found['id']} ITEM' ticks one).\n")
    emit_document(incident_document(found), "table", None)


@incident.command("show")
@click.argument("incident_id", metavar="INCIDENT")
@output_options
@click.pass_obj
def show(app: App, incident_id: str, fmt: str, output_file: str | None) -> None:
    """Show an incident and its numbered checklist."""
    from accessgov.governance.incidents import show as show_incident
    from accessgov.reports.checklist import incident_document

    emit_document(incident_document(show_incident(app.register, incident_id)), fmt,
                  output_file)


@incident.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only incidents still open.")
@output_options
@click.pass_obj
def list_(app: App, open_only: bool, fmt: str, output_file: str | None) -> None:
    """List incidents, newest first, with how many items are still to do."""
    from accessgov.governance.incidents import list_incidents
    from accessgov.reports.document import Document, Rows

    emit_document(Document(rows=Rows(columns=LIST_COLUMNS,
                                     records=list_incidents(app.register, open_only=open_only),
                                     table_columns=TABLE_COLUMNS,
                                     empty="No incidents recorded.")), fmt, output_file)


@incident.command("done")
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("item", type=WholeNumber(minimum=1))
@click.option("--note", help="What was done (needed for an item that ticks itself).")
@otp_option
@click.pass_obj
def done_(app: App, incident_id: str, item: int, note: str | None, otp: str | None) -> None:
    """Tick one item (an approver for its account; the CEO or a trustee otherwise)."""
    from accessgov.governance.incidents import mark_done

    app.change(lambda op: mark_done(op, incident_id, item, note), otp=otp)
    done(f"Ticked item {item} of {incident_id}.")


@incident.command("decide")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--report", type=click.Choice(["yes", "no"]), required=True,
              help="Whether it is reported to the Charity Commission as a serious incident.")
@click.option("--reason", required=True, help="Why (kept in the record).")
@otp_option
@click.pass_obj
def decide(app: App, incident_id: str, report: str, reason: str, otp: str | None) -> None:
    """Record the decision on reporting to the Charity Commission (the CEO or a trustee)."""
    from accessgov.governance.incidents import decide as record_decision

    app.change(lambda op: record_decision(op, incident_id, report, reason), otp=otp)
    done(f"Recorded for {incident_id}: report to the Charity Commission: {report}.")


@incident.command("close")
@click.argument("incident_id", metavar="INCIDENT")
@otp_option
@click.pass_obj
def close(app: App, incident_id: str, otp: str | None) -> None:
    """Close an incident whose every item is done (the CEO or a trustee)."""
    from accessgov.governance.incidents import close as close_incident

    app.change(lambda op: close_incident(op, incident_id), otp=otp)
    done(f"Closed {incident_id}.")


@incident.command("export")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True,
              help="csv (UTF-8 with a byte-order mark), json, md or html.")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False),
              help="Write to this file (created private, 0600).")
@click.pass_obj
def export(app: App, incident_id: str, fmt: str, output_file: str | None) -> None:
    """Export an incident and its checklist as evidence."""
    from accessgov.governance.incidents import show as show_incident
    from accessgov.reports.checklist import incident_document

    emit_document(incident_document(show_incident(app.register, incident_id), bom=True),
                  fmt, output_file)

