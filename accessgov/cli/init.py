"""accessgov init."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from accessgov.cli.app import App
from accessgov.cli.options import as_option, done
from accessgov.errors import InputError

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from accessgov.secrets.base import SecretBackend
    from accessgov.secrets.config import Backends
    from accessgov.secrets.spec import InitOption


class InitCommand(click.Command):
    """`init`, whose --backend names and per-backend options come from the backends in use:
    the built-in ones, or those of a `Backends` a test gives App as its backend factory."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from accessgov.secrets.config import BUILT_IN

        super().__init__(*args, **kwargs)
        # The built-in backends' options are part of the command, for whoever reads `params`;
        # another program's backends add theirs per invocation (get_params).
        self.params += _options(BUILT_IN)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        key = "accessgov.init.extra_options"  # made once: click asks several times
        if key not in ctx.meta:
            present = {param.name for param in params}
            ctx.meta[key] = [option for option in _options(_backends(ctx))
                             if option.name not in present]
        return [*params, *ctx.meta[key]]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The common options, the backends, then each backend's options under its name."""
        backends = _backends(ctx)
        owner = {option.name: kind for kind in backends.names
                 for option in backends.module(kind).OPTIONS}
        params = self.get_params(ctx)

        def rows(kind: str | None) -> list[tuple[str, str]]:
            return [row for param in params
                    if owner.get(param.name or "") == kind and (row := param.get_help_record(ctx))]

        with formatter.section("Options"):
            formatter.write_dl(rows(None))
        with formatter.section("Secret backends (--backend)"):
            formatter.write_dl([(kind, backends.module(kind).SUMMARY) for kind in backends.names])
        for kind in backends.names:
            if kind_rows := rows(kind):
                with formatter.section(f"Options for --backend {kind}"):
                    formatter.write_dl(kind_rows)


def _backends(ctx: click.Context) -> Backends:
    from accessgov.secrets.config import backends_in

    app = ctx.find_object(App)
    return backends_in(app.backend_factory if app else None)


def _options(backends: Backends) -> list[click.Option]:
    """A click option for every init option of every backend (one for an option that two
    backends share, such as the OpenBao address)."""
    options = {option.name: option for kind in reversed(backends.names)
               for option in backends.module(kind).OPTIONS}
    return [_click_option(option) for option in options.values()]


def _click_option(option: InitOption) -> click.Option:
    return click.Option(
        [option.flag], envvar=option.envvar, show_envvar=option.envvar is not None,
        default=option.default, show_default=option.default is not None, help=option.help,
        type=click.Path(dir_okay=False) if option.is_file else None,
    )


def _complete_backend(ctx: click.Context, _param: click.Parameter,
                      incomplete: str) -> list[CompletionItem | str]:
    return [kind for kind in _backends(ctx).names if kind.startswith(incomplete)]


@click.command(cls=InitCommand)
@click.option("--org", required=True, help="The organisation's name, e.g. \"InterAct\".")
@click.option("--slug", help="Short id used in secret-store paths (default: from --org).")
@click.option("--backend", metavar="NAME", shell_complete=_complete_backend,
              help="Where secrets live: one of the secret backends below (env "
                   "ACCESSGOV_BACKEND; default keyring).")
@click.option("--insecure-http", is_flag=True,
              help="Accept a plain http:// store address on another machine.")
@as_option
@click.pass_obj
def init(app: App, /, org: str, slug: str | None, backend: str | None,
         insecure_http: bool = False, **backend_options: str | None) -> None:
    """Create a register for an organisation and bind it to a secret store.

    The store is checked first and receives the audit key. Nothing secret is given on the
    command line: each store reaches its own secrets (see the secret backends below).
    """
    from accessgov.common import validate
    from accessgov.initialise import initialise, org_slug
    from accessgov.secrets.config import backends_in

    assert app.db_path is not None
    if app.db_path.exists():  # said at once, before any secret store is looked for
        raise InputError(f"a register already exists at {app.db_path}")
    org = validate.text(org, "--org", max_length=200)
    backends = backends_in(app.backend_factory)
    kind, _source = backends.resolve(backend, app.env)
    org_id = validate.slug(slug, "--slug") if slug else org_slug(org)
    given = {}
    for option in backends.module(kind).OPTIONS:
        given[option.name] = backend_options.get(option.name)
        if option.required and not given[option.name]:
            alternative = f" (or {option.envvar})" if option.envvar else ""
            raise click.UsageError(f"{option.flag}{alternative} is needed for the {kind} "
                                   "backend")
    config = backends.configure(kind, org_id, given)
    if url := config.settings.get("vault_url"):
        from accessgov.secrets.vault import refuse_plain_http

        refuse_plain_http(url, insecure_http)
    factory = app.backend_factory or backends
    store = factory(config)
    login = _log_in(app, store) if store.signs else None
    register = initialise(app.db_path, org, config, factory, store=store)
    register.close()
    done(f"Created the register for {org} at {app.db_path}")
    if login is not None:
        from accessgov.identity.login import keep_store_session

        person, token = login
        keep_store_session(app.workspace.seat(), person, token)
        done(f"Logged in to OpenBao as {person}: every change is signed with your key.")
    done(f"Secrets will be kept in: {kind}. Next, while no code is needed: add the CEO "
         "('accessgov person add ID ... --category ceo') and the CEO's accounts ('accessgov "
         "account add'); then the CEO runs 'accessgov mfa enrol ID', which ends set-up.")


def _log_in(app: App, store: SecretBackend) -> tuple[str, str]:
    """Where each operator is their own OpenBao identity, the register's first event is
    signed by the operator who makes it: they log in first (password and code)."""
    import datetime as dt

    from accessgov.cli.options import secret_input

    person = app.operator
    if not person:
        raise click.UsageError("name the operator who sets the register up with --as PERSON")
    password = secret_input(app, f"{person}'s OpenBao password")
    code = secret_input(app, f"Code from {person}'s authenticator app")
    return str(person), store.login(person, password, code, dt.timedelta(minutes=15))
