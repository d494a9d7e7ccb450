"""Issue 17, item 3: `accessgov remind [--send]`, e-mailed through a real SMTP server
(aiosmtpd on loopback, with STARTTLS and a password sign-in, as a charity's mail provider).

The story: the policy's annual review is overdue and a grant runs out next week; the CEO and
the trustee hear of the first, the account's owner of the second, the member of staff of
nothing; the next run that day sends nothing again; a day later they are reminded again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.support.schemas import validate_output
from tests.support.servers import free_port
from tests.support.shell import Shell, dump

PASSWORD = "Smtp-Canary-Secret-9182"


class Inbox:
    """What the server received: (recipients, message) pairs."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), mail))
        return "250 OK"

    def to(self) -> list[str]:
        return sorted(address for recipients, _ in self.messages for address in recipients)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (the test's own CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp.pem", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    """A real SMTP server on a free loopback port: STARTTLS required, then a sign-in."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()

    def authenticator(_server: Any, _session: Any, _envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == b"reminders" \
            and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, auth_required=True,
                            authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


@pytest.fixture
def due_soon(org: Shell) -> Shell:
    """jdoe's access to the CEO's Instagram runs out in 7 days; no policy review recorded."""
    last_day = (org.clock.now.date() + dt.timedelta(days=7)).isoformat()
    org.run(f"grant add jdoe instagram-main --role editor --reason Events --expires {last_day} "
            f"{org.as_('spatel')}")
    return org


def configure(sh: Shell, port: int, cert: Path, password: str = PASSWORD) -> None:
    for name, value in (("smtp-host", "127.0.0.1"), ("smtp-port", str(port)),
                        ("smtp-from", "accessgov@interact.example"),
                        ("smtp-user", "reminders"), ("smtp-cacert", str(cert))):
        sh.run(f"policy set {name} {value} {sh.as_('vperkins')}")
    sh.run(f"policy set smtp-password {sh.as_('vperkins')}", input=password + "\n")


def test_remind_lists_what_is_due_for_owners_and_approvers_only(due_soon: Shell) -> None:
    data = validate_output("remind", due_soon.run("remind --format json").stdout)
    assert isinstance(data, list)
    who = {entry["person"]: [task["what"] for task in entry["tasks"]] for entry in data}
    assert sorted(who) == ["spatel", "vperkins"]  # jdoe, with nothing to do, is not listed
    assert any("annual review" in what for what in who["spatel"])
    assert any("G-0001" in what and "instagram-main" in what for what in who["vperkins"])
    assert not any("G-0001" in what for what in who["spatel"])  # the owner's, not the Board's
    table = due_soon.run("remind").stdout
    assert "accessgov policy reviewed" in table


def test_nothing_due_means_no_list_and_no_mail(org: Shell, smtp: tuple[Inbox, int, Path]
                                               ) -> None:
    inbox, port, cert = smtp
    today = org.clock.now.date().isoformat()
    org.run(f"policy reviewed --date {today} {org.as_('vperkins')}")
    org.run(f"review start {org.as_('vperkins')}")  # due in 30 days
    assert json.loads(org.run("remind --days 1 --format json").stdout) == []
    assert "Nothing is due in the next 1 days" in org.run("remind --days 1").stdout
    configure(org, port, cert)
    assert "Nothing to send" in org.run("remind --send --days 1").stdout
    assert inbox.messages == []


def test_the_reminders_are_emailed_once_a_day_through_starttls(
        due_soon: Shell, smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, cert = smtp
    configure(due_soon, port, cert)
    sent = due_soon.run("remind --send")
    assert "Sent 2 reminders" in sent.stdout
    assert inbox.to() == ["s@example.org", "v@example.org"]
    by_address = {recipients[0]: mail for recipients, mail in inbox.messages}
    body = by_address["v@example.org"].get_content()
    assert "Dear Vickie Perkins" in body and "G-0001" in body
    assert "accessgov grant show G-0001" in body
    assert by_address["s@example.org"]["From"] == "accessgov@interact.example"
    events = json.loads(due_soon.run("audit log --action reminder.sent --format json").stdout)
    assert sorted(event["subject"] for event in events) == ["spatel", "vperkins"]

    # The same day, the same tasks: nothing is sent again.
    again = due_soon.run("remind --send")
    assert "Nothing to send" in again.stdout and len(inbox.messages) == 2
    # The next day they are reminded again.
    due_soon.clock.advance(24 * 3600)
    due_soon.run("remind --send")
    assert len(inbox.messages) == 4

    # The password is only in the secret store: never in the register, the log, the output.
    everything = json.dumps(dump(due_soon.db), default=str)
    assert PASSWORD not in everything
    assert PASSWORD not in due_soon.run("audit log --format json").stdout
    shown = validate_output("policy-show", due_soon.run("policy show --format json").stdout)
    assert shown["email"]["password"].startswith("in the secret store")  # type: ignore[index]
    assert PASSWORD not in json.dumps(shown)


def test_a_wrong_password_is_one_line_and_nothing_is_recorded(
        due_soon: Shell, smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, cert = smtp
    configure(due_soon, port, cert, password="not-the-password")
    before = dump(due_soon.db)["audit"]
    failed = due_soon.run("remind --send", expect=4)
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused the user name or password" in lines[0]
    assert "not-the-password" not in failed.output
    assert inbox.messages == []
    assert dump(due_soon.db)["audit"] == before


def test_an_untrusted_certificate_is_refused(due_soon: Shell, smtp: tuple[Inbox, int, Path],
                                             tmp_path: Path) -> None:
    """Without the server's CA, STARTTLS does not go ahead (no password crosses in clear)."""
    inbox, port, cert = smtp
    configure(due_soon, port, cert)
    other = tmp_path / "other"
    other.mkdir()
    other_cert, _ = self_signed(other)
    due_soon.run(f"policy set smtp-cacert {other_cert} {due_soon.as_('vperkins')}")
    failed = due_soon.run("remind --send", expect=4)
    assert "could not be verified" in failed.stderr and inbox.messages == []


def test_the_password_never_goes_on_the_command_line(due_soon: Shell) -> None:
    refused = due_soon.run(f"policy set smtp-password {PASSWORD} {due_soon.as_('vperkins')}",
                           expect=2)
    assert "never given on the command line" in refused.output
    assert due_soon.run("remind --send", expect=2).stderr.count("\n") == 1


def test_open_incident_items_go_to_the_owner_and_the_decision_to_the_board(
        due_soon: Shell) -> None:
    due_soon.run("incident open instagram-main --kind compromised --summary 'Odd posts' "
                 "--as jdoe")
    data = json.loads(due_soon.run("remind --format json").stdout)
    who = {entry["person"]: [task["what"] for task in entry["tasks"]] for entry in data}
    assert any("I-0001" in what and "signed-in session" in what for what in who["vperkins"])
    assert any("I-0001" in what and "Charity Commission" in what for what in who["spatel"])
    assert not any("I-0001" in what and "signed-in session" in what for what in who["spatel"])
