"""accessgov store show / set-address / move, and setup / add-operator / invite / enrol /
reset-mfa / disable / enable.

The OpenBao side of a register whose operators are each their own identity (`init
--backend openbao`). All but `enrol` are an OpenBao administrator's, with their token in
VAULT_TOKEN (or ~/.vault-token); they act on OpenBao only, which records them in its own
audit log.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from accessgov.cli.app import App
from accessgov.cli.options import (
    done,
    emit_document,
    otp_option,
    output_options,
    secret_input,
)
from accessgov.errors import InputError

if TYPE_CHECKING:
    from accessgov.identity.operators import Administration
    from accessgov.secrets.config import BackendConfig

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def store() -> None:
    """The secret store: where it is, moving the register to another, and the OpenBao server
    of a register whose operators are each their own identity."""


@store.command("show")
@output_options
@click.pass_obj
def show(app: App, fmt: str, output_file: str | None) -> None:
    """Where this register keeps its secrets (backend, address, mount; never a secret)."""
    from accessgov.governance.store_address import describe
    from accessgov.reports.document import Document

    emit_document(Document(record=describe(app.register)), fmt, output_file)


@store.command("set-address")
@click.argument("url", metavar="URL")
@click.option("--insecure-http", is_flag=True,
              help="Accept plain http:// to another machine (secrets cross the network in "
                   "clear).")
@otp_option
@click.pass_obj
def set_address(app: App, url: str, insecure_http: bool, otp: str | None) -> None:
    """Change the Vault/OpenBao address the register uses (the CEO or a trustee, audited).

    VAULT_ADDR is read only at init; after that the register keeps the address. The change
    is proved through the new address, so it must be the same store, moved or restored.
    """
    from accessgov.governance.store_address import check_address
    from accessgov.governance.store_address import set_address as change

    url = check_address(app.register.setting("backend"), url, insecure_http)
    app.workspace.store_address = url
    before = app.change(lambda op: change(op, url), otp=otp)
    done(f"The register now uses the secret store at {url} (was {before or 'unset'}).")


@store.command("move")
@click.option("--to", "kind", type=click.Choice(["vault", "keyring"]), required=True,
              help="The store to move to.")
@click.option("--vault-url", envvar="VAULT_ADDR", help="Vault/OpenBao address (env VAULT_ADDR).")
@click.option("--vault-mount", default="secret", show_default=True, help="KV v2 mount.")
@click.option("--vault-prefix", default="accessgov", show_default=True,
              help="Folder inside the mount for this tool.")
@click.option("--vault-namespace", envvar="VAULT_NAMESPACE",
              help="Vault/OpenBao namespace (env VAULT_NAMESPACE).")
@click.option("--vault-cacert", envvar="VAULT_CACERT", type=click.Path(dir_okay=False),
              help="CA bundle for Vault's TLS certificate (env VAULT_CACERT).")
@click.option("--insecure-http", is_flag=True,
              help="Accept plain http:// to another machine (secrets cross the network in "
                   "clear).")
@click.option("--remove-old", is_flag=True,
              help="Once the register has switched, delete the copies in the old store.")
@otp_option
@click.pass_obj
def move(app: App, /, kind: str, insecure_http: bool, remove_old: bool, otp: str | None,
         **given: str | None) -> None:
    """Move every secret to another store and switch the register to it (the CEO or a
    trustee, audited).

    Each secret is copied with its version numbers and read back before the register
    switches; anything that fails undoes the whole move. The new store's area must be
    empty. A Vault token comes from VAULT_TOKEN or ~/.vault-token, as at init.
    """
    from accessgov.governance.store_move import check_move
    from accessgov.governance.store_move import move as move_secrets
    from accessgov.secrets.config import BackendConfig, backends_in

    register = app.register
    source = BackendConfig.from_settings(register.settings())
    backends = backends_in(app.backend_factory)
    if kind == "vault" and not given.get("vault_url"):
        raise click.UsageError("--vault-url (or VAULT_ADDR) is needed to move to vault")
    options = {option.name for option in backends.module(kind).OPTIONS}
    target_config = backends.configure(
        kind, source.org_slug, {name: value for name, value in given.items() if name in options})
    check_move(source, target_config)
    url = target_config.settings.get("vault_url")
    if url:
        from accessgov.secrets.vault import refuse_plain_http

        refuse_plain_http(url, insecure_http)
    target = (app.backend_factory or backends)(target_config)
    details = app.change(lambda op: move_secrets(op, target, target_config,
                                                  remove_old=remove_old),
                         otp=otp, moving_to=target)
    where = f" at {url}" if url else ""
    done(f"Moved {details['secrets']} secrets ({details['versions']} versions) to {kind}{where}; "
         "the register now uses it ('accessgov store show').")
    if not remove_old:
        done("The old store still holds its copies: once you are sure, delete them there "
             "(or move with --remove-old).")


def _where(function: F) -> F:
    """Where the organisation's OpenBao is: the register's own settings when it has one (at
    --db), else these options (as `init --backend openbao` takes them)."""
    for option in reversed([
        click.option("--vault-url", envvar="VAULT_ADDR", help="OpenBao address (env VAULT_ADDR)."),
        click.option("--slug", help="The organisation's short id, as init made it."),
        click.option("--vault-mount", default="secret", show_default=True, help="KV v2 mount."),
        click.option("--vault-prefix", default="accessgov", show_default=True,
                     help="Folder inside the mount for this tool."),
        click.option("--vault-namespace", envvar="VAULT_NAMESPACE",
                     help="OpenBao namespace (env VAULT_NAMESPACE)."),
        click.option("--vault-cacert", envvar="VAULT_CACERT", type=click.Path(dir_okay=False),
                     help="CA bundle for OpenBao's TLS certificate (env VAULT_CACERT)."),
        click.option("--openbao-auth-mount", default="userpass", show_default=True,
                     help="The auth mount operators log in with."),
    ]):
        function = option(function)
    return function


def _config(app: App, where: dict[str, Any]) -> BackendConfig:
    from accessgov.db.register import Register
    from accessgov.secrets.config import BackendConfig

    assert app.db_path is not None
    if app.db_path.exists():
        register = Register.open(app.db_path)
        try:
            config = BackendConfig.from_settings(register.settings())
        finally:
            register.close()
        if config.kind != "openbao":
            raise InputError(f"the register at {app.db_path} keeps its secrets in {config.kind}, "
                             "not in OpenBao with each operator their own identity")
        return config
    slug = where.pop("slug")
    if not slug:
        raise click.UsageError("give the organisation's --slug (or --db, its register)")
    from accessgov.common import validate

    return BackendConfig("openbao", validate.slug(slug, "--slug"),
                         **{key: value for key, value in where.items() if value})


def _admin(app: App, where: dict[str, Any]) -> Administration:
    from accessgov.identity.operators import Administration
    from accessgov.secrets.vault import find_token

    return Administration.of(_config(app, where), find_token())


@store.command("setup")
@_where
@click.pass_obj
def setup(app: App, /, **where: Any) -> None:
    """Enable in OpenBao what accessgov needs (the login mount with Login MFA, transit, KV
    version 2) and write its policies. Run once, with an administrator's token; running it
    again checks and repairs."""
    admin = _admin(app, where)
    for warning in admin.setup():
        click.echo(f"Warning: {warning}", err=True)
    done(f"OpenBao is set up for '{admin.layout.org}'. Next: 'accessgov store add-operator "
         "PERSON' for each operator, starting with the CEO.")


@store.command("add-operator")
@click.argument("person_id", metavar="PERSON")
@click.option("--password-stdin", is_flag=True,
              help="Read the operator's first password from standard input.")
@_where
@click.pass_obj
def add_operator(app: App, /, person_id: str, password_stdin: bool, **where: Any) -> None:
    """Make PERSON an operator: their OpenBao user (with a first password, asked for twice,
    never on the command line), identity and signing key; prints their enrolment code."""
    from accessgov.common import validate

    person_id = validate.slug(person_id, "person id")
    admin = _admin(app, where)
    password = _password(app, password_stdin)
    code = admin.add_operator(person_id, password)
    _hand_over(person_id, code)


@store.command("invite")
@click.argument("person_id", metavar="PERSON")
@_where
@click.pass_obj
def invite(app: App, /, person_id: str, **where: Any) -> None:
    """A new enrolment code for PERSON (after their MFA was reset)."""
    _hand_over(person_id, _admin(app, where).invite(person_id))


@store.command("enrol")
@click.argument("person_id", metavar="PERSON")
@_where
@click.pass_obj
def enrol(app: App, /, person_id: str, **where: Any) -> None:
    """Enrol your authenticator app with the enrolment code your administrator gave you
    (asked for, hidden). The QR code is shown to you once; OpenBao never shows it again."""
    from accessgov.identity.operators import enrol as make_key

    config = _config(app, where)
    code = secret_input(app, f"Enrolment code for {person_id}")
    enrolment = make_key(config, code)
    show_enrolment(enrolment.url, enrolment.key)
    done(f"Enrolled {person_id}'s authenticator in OpenBao. Log in with 'accessgov login "
         f"--as {person_id}' (password and the code the app shows).")


@store.command("reset-mfa")
@click.argument("person_id", metavar="PERSON")
@_where
@click.pass_obj
def reset_mfa(app: App, /, person_id: str, **where: Any) -> None:
    """Destroy PERSON's authenticator key in OpenBao (lost phone): they log in again only
    after enrolling anew with a new code from 'accessgov store invite'."""
    _admin(app, where).reset_mfa(person_id)
    done(f"Destroyed {person_id}'s TOTP key in OpenBao.")


@store.command("disable")
@click.argument("person_id", metavar="PERSON")
@_where
@click.pass_obj
def disable(app: App, /, person_id: str, **where: Any) -> None:
    """Stop PERSON at once (someone who leaves): no login, and every token of theirs ends."""
    _admin(app, where).disable(person_id)
    done(f"Disabled {person_id} in OpenBao: their logins and tokens no longer work.")


@store.command("enable")
@click.argument("person_id", metavar="PERSON")
@_where
@click.pass_obj
def enable(app: App, /, person_id: str, **where: Any) -> None:
    """Let PERSON log in again (someone who came back)."""
    _admin(app, where).enable(person_id)
    done(f"Enabled {person_id} in OpenBao.")


def _password(app: App, from_stdin: bool) -> str:
    if from_stdin or not app.interactive():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("First password for the operator", hide_input=True,
                                confirmation_prompt=True, err=True)
    if len(password) < 12:
        raise InputError("an operator's password needs at least 12 characters")
    return str(password)


def _hand_over(person_id: str, code: str) -> None:
    click.echo(code)
    click.echo(f"Give this enrolment code to {person_id} (in person or by a channel only they "
               "read): it works for 15 minutes. They run 'accessgov store enrol "
               f"{person_id}', then 'accessgov login --as {person_id}'.", err=True)


def show_enrolment(url: str, key: str) -> None:
    """The new authenticator key, once: the otpauth link (and a QR code on a terminal), and
    the key itself for apps that take it typed."""
    click.echo(url)
    if sys.stdout.isatty():
        import qrcode

        code = qrcode.QRCode(border=1)
        code.add_data(url)
        code.print_ascii(out=sys.stdout, invert=True)
    click.echo(f"Key (to type into the app instead of scanning): {key}", err=True)
