"""accessgov db setup: the database side of a register in PostgreSQL."""

from __future__ import annotations

import click

from accessgov.cli.app import App
from accessgov.cli.options import done
from accessgov.errors import InputError

DEFAULT_ROLE = "accessgov_operators"


@click.group()
def db() -> None:
    """The register's database (PostgreSQL), for the database's owner."""


@db.command("setup")
@click.option("--role", default=DEFAULT_ROLE, show_default=True,
              help="The group role the operators' own login roles belong to.")
@click.pass_obj
def setup(app: App, role: str) -> None:
    """Create the operators' group role and give it what accessgov writes: every table's
    rows, but the audit log only read and appended to, never changed or deleted (PostgreSQL
    itself refuses). Run once as the database's owner, before the CEO's 'init' (it makes
    the register's tables, which operators may not), and again after an upgrade of
    accessgov.

    Then give each operator a login of their own in that role (in psql: CREATE ROLE sonal
    LOGIN IN ROLE accessgov_operators; then \\password sonal), and they point
    ACCESSGOV_DATABASE_URL at the database as that login.
    """
    from accessgov.db.postgres import PostgresRegister
    from accessgov.db.register import DatabaseUrl

    if not isinstance(app.db_path, DatabaseUrl):
        raise InputError("'db setup' is for a register in PostgreSQL (--database URL); an "
                         "SQLite register is protected by its file's permissions (0600)")
    register = PostgresRegister.prepare(app.db_path)
    try:
        register.set_up_operators_role(role)
        started = register.is_started()
    finally:
        register.close()
    then = "" if started else (" The register is not started yet: the CEO starts it with "
                               "'accessgov init' through her own login.")
    done(f"The register's tables are ready, and the role {role} may read and write their "
         "records and append to the audit log, never change or delete it. Give each operator "
         f"a login in it: CREATE ROLE name LOGIN IN ROLE {role}; then \\password name (in "
         f"psql).{then}")
