"""accessgov remind."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, output_options
from accessgov.cli.params import WholeNumber

if TYPE_CHECKING:
    from accessgov.governance.reminders import Recipient

COLUMNS = ("person", "name", "email", "due", "overdue", "what", "command")
TABLE_COLUMNS = ("person", "due", "what", "command")


@click.command()
@click.option("--send", is_flag=True,
              help="E-mail each person their reminder (at most once a day for the same "
                   "tasks) instead of printing.")
@click.option("--days", type=WholeNumber(minimum=1, maximum=366), default=14, show_default=True,
              help="How far ahead to look.")
@output_options
@click.pass_obj
def remind(app: App, send: bool, days: int, fmt: str, output_file: str | None) -> None:
    """What is due in the next days or overdue (reviews, the policy's annual review, grants
    running out, open offboarding items, passwords due for rotation), for each person who
    must act: the CEO and trustees, and each account's owner. Nobody with nothing due is
    listed or e-mailed.

    --send e-mails them through the mail server set with 'accessgov policy set smtp-...';
    run it daily from cron or a systemd timer (see README).
    """
    from accessgov.governance import reminders

    today = app.today()
    recipients = reminders.due(app.register, today, days)
    if send:
        _send(app, recipients, today)
        return
    from accessgov.reports.document import Document, Rows

    rows = [{"person": r.person, "name": r.name, "email": r.email, **task}
            for r in recipients for task in r.as_dict(today)["tasks"]]
    emit_document(Document(
        rows=Rows(columns=COLUMNS, records=rows, table_columns=TABLE_COLUMNS,
                  empty=f"Nothing is due in the next {days} days, and nothing is overdue."),
        payload=[recipient.as_dict(today) for recipient in recipients]), fmt, output_file)


def _send(app: App, recipients: list[Recipient], today: str) -> None:
    from accessgov.governance import mail, reminders
    from accessgov.governance.policy import SMTP_PASSWORD_PATH, SMTP_PASSWORD_VERSION

    register = app.register
    server = mail.server_of(register)
    pending = reminders.not_sent_today(register, recipients, today)
    if not pending:
        done("Nothing to send: nobody has a task due, or each was reminded of the same "
             "tasks today already.")
        return

    def password() -> str | None:
        version = register.setting(SMTP_PASSWORD_VERSION)
        if not version:
            return None
        return app.workspace.backend.read(SMTP_PASSWORD_PATH, int(version))

    organisation = register.setting("org") or "the organisation"
    messages = [(recipient, mail.message(server, recipient, organisation, today))
                for recipient in pending]
    failure: mail.Unsent | None = None
    try:
        sent = mail.send(server, password, messages)
    except mail.Unsent as error:
        sent, failure = error.sent, error
    if sent:
        app.change(lambda op: reminders.record_sent(op, sent))
        done(f"Sent {len(sent)} reminder{'s' if len(sent) != 1 else ''}: "
             f"{', '.join(f'{r.name} <{r.email}>' for r in sent)}.")
    if failure is not None:
        raise failure
