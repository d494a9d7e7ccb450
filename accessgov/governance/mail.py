"""E-mailing reminders through the organisation's mail server (SMTP, STARTTLS by default).

The settings are the register's (`policy set smtp-...`); the password is read from the secret
store only when a message is sent, and never appears in an error: a failure is one plain
line naming the server and what went wrong.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from accessgov.errors import BackendUnavailable, InputError
from accessgov.governance.policy import email_settings

if TYPE_CHECKING:
    from accessgov.db.register import Register
    from accessgov.governance.reminders import Recipient

TIMEOUT_SECONDS = 20


@dataclasses.dataclass(frozen=True)
class Server:
    """Where to send from (no password: it is asked for when a message goes)."""

    host: str
    port: int
    sender: str
    user: str | None
    starttls: bool
    cacert: str | None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def server_of(register: Register) -> Server:
    """The mail server the register names, or InputError saying what to set."""
    settings = email_settings(register)
    missing = [name for name in ("host", "from") if not settings[name]]
    if missing:
        raise InputError(f"no mail server is set for reminders: set it with 'accessgov policy "
                         f"set smtp-{missing[0]} VALUE' (and smtp-port, smtp-user, "
                         "smtp-password as your mail provider says)")
    return Server(settings["host"], settings["port"], settings["from"], settings["user"],
                  settings["starttls"], settings["cacert"])


def message(server: Server, recipient: Recipient, organisation: str, today: str
            ) -> EmailMessage:
    """The reminder for one person, in plain words."""
    count = len(recipient.tasks)
    mail = EmailMessage()
    mail["From"] = server.sender
    mail["To"] = recipient.email
    mail["Subject"] = f"accessgov: {count} task{'s' if count != 1 else ''} due ({organisation})"
    lines = [f"Dear {recipient.name},", "",
             f"These tasks in {organisation}'s register of official accounts are yours, due "
             "in the next days or overdue:", ""]
    for task in recipient.tasks:
        when = "OVERDUE since" if task.due < today else "due"
        lines += [f"- {task.what} ({when} {task.due})", f"    {task.command}", ""]
    lines += ["You get this because you own the accounts concerned or approve access to them.",
              "", f"accessgov, for {organisation}"]
    mail.set_content("\n".join(lines) + "\n")
    return mail


def send(server: Server, password: Callable[[], str | None],
         messages: Iterable[tuple[Recipient, EmailMessage]]) -> list[Recipient]:
    """Send each message over one connection; those sent. A failure stops the rest and is
    raised (BackendUnavailable) once the ones sent so far are known (`sent` on the error)."""
    import smtplib
    import ssl

    sent: list[Recipient] = []
    try:
        with smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS) as smtp:
            if server.starttls:
                context = ssl.create_default_context(cafile=server.cacert or None)
                smtp.starttls(context=context)
            if server.user:
                secret = password()
                if not secret:
                    raise InputError("the mail server's password is not in the secret store: "
                                     "set it with 'accessgov policy set smtp-password'")
                try:
                    _sign_in(smtp, server.user, secret)
                except (smtplib.SMTPAuthenticationError, smtplib.SMTPServerDisconnected):
                    raise Unsent(f"could not send reminders through {server.where} (the "
                                 "server refused the user name or password)", sent) from None
            for recipient, mail in messages:
                smtp.send_message(mail)
                sent.append(recipient)
    except Unsent:
        raise
    except InputError as error:
        raise Unsent(str(error), sent) from None
    except (smtplib.SMTPException, OSError) as error:  # ssl.SSLError is an OSError
        raise Unsent(f"could not send reminders through {server.where} "
                     f"({_reason(error)})", sent) from None
    return sent


def _sign_in(smtp: Any, user: str, password: str) -> None:
    """PLAIN when offered (over TLS), else whatever smtplib picks: one attempt, so a wrong
    password is one refusal rather than a fall-through to mechanisms the server stalls on."""
    smtp.ehlo_or_helo_if_needed()
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    if "PLAIN" in offered:
        smtp.user, smtp.password = user, password
        smtp.auth("PLAIN", smtp.auth_plain)
    else:
        smtp.login(user, password)


class Unsent(BackendUnavailable):
    """Sending stopped; `sent` were sent before it did."""

    def __init__(self, message: str, sent: list[Recipient]) -> None:
        super().__init__(message)
        self.sent = sent


def _reason(error: BaseException) -> str:
    import smtplib

    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "the server does not offer STARTTLS; set smtp-starttls no only for a server " \
               "on this machine"
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(
            error.smtp_error, bytes) else str(error.smtp_error)
        return f"the server answered {error.smtp_code}: {text.splitlines()[0][:120]}"
    import ssl

    if isinstance(error, ssl.SSLCertVerificationError):
        return f"its certificate could not be verified: {error.verify_message}; give its CA " \
               "with 'accessgov policy set smtp-cacert FILE'"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or type(error).__name__}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__
