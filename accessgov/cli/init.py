"""accessgov init."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import done
from accessgov.errors import InputError


@click.command()
@click.option("--org", required=True, help="The organisation's name, e.g. \"InterAct\".")
@click.option("--slug", help="Short id used in secret-store paths (default: from --org).")
@click.option("--backend", type=click.Choice(["keyring", "vault"]),
              help="Where secrets live (env ACCESSGOV_BACKEND; default keyring).")
@click.option("--vault-url", envvar="VAULT_ADDR", help="Vault/OpenBao address (env VAULT_ADDR).")
@click.option("--vault-mount", default="secret", show_default=True, help="KV v2 mount.")
@click.option("--vault-prefix", default="accessgov", show_default=True,
              help="Folder inside the mount for this tool.")
@click.option("--vault-cacert", envvar="VAULT_CACERT", type=click.Path(dir_okay=False),
              help="CA bundle to verify Vault's TLS certificate (env VAULT_CACERT).")
@click.option("--vault-namespace", envvar="VAULT_NAMESPACE",
              help="Vault/OpenBao namespace, e.g. admin/team-a (env VAULT_NAMESPACE; default "
                   "the root namespace). Kept with the register: VAULT_NAMESPACE set later "
                   "does not change it.")
@click.pass_obj
def init(app: App, org: str, slug: str | None, backend: str | None, vault_url: str | None,
         vault_mount: str, vault_prefix: str, vault_cacert: str | None,
         vault_namespace: str | None) -> None:
    """Create a register for an organisation and bind it to a secret store.

    The store (OS keyring or Vault/OpenBao) is checked first and receives the audit key;
    the Vault token comes from VAULT_TOKEN or ~/.vault-token, never from the command line.
    """
    from accessgov.common import validate
    from accessgov.initialise import initialise, org_slug
    from accessgov.secrets.config import BackendConfig, open_backend, resolve_backend_name

    assert app.db_path is not None
    if app.db_path.exists():  # said at once, before any secret store is looked for
        raise InputError(f"a register already exists at {app.db_path}")
    org = validate.text(org, "--org", max_length=200)
    kind, _source = resolve_backend_name(backend, app.env)
    org_id = validate.slug(slug, "--slug") if slug else org_slug(org)
    if kind == "vault":
        if not vault_url:
            raise click.UsageError("--vault-url (or VAULT_ADDR) is needed for the vault backend")
        validate.one_line(vault_url, "--vault-url")
        config = BackendConfig(kind, org_id, vault_url=vault_url.rstrip("/"),
                               vault_mount=vault_mount, vault_prefix=vault_prefix,
                               vault_cacert=vault_cacert, vault_namespace=vault_namespace)
    else:
        from accessgov.secrets.keyring_backend import choose_keyring_class

        config = BackendConfig(kind, org_id, keyring_class=choose_keyring_class())
    register = initialise(app.db_path, org, config, app.backend_factory or open_backend)
    register.close()
    done(f"Created the register for {org} at {app.db_path}")
    done(f"Secrets will be kept in: {kind}. Next, while no code is needed: add the CEO "
         "('accessgov person add ID ... --category ceo') and the CEO's accounts ('accessgov "
         "account add'); then the CEO runs 'accessgov mfa enrol ID', which ends set-up.")
