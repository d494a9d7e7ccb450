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
    itself refuses). Run once, as the owner of the register's tables, after 'init', and
    again after an upgrade of accessgov.

    Then give each operator a login of their own in that role (in psql: CREATE ROLE sonal
    LOGIN IN ROLE accessgov_operators; then \\password sonal), and they point
    ACCESSGOV_DATABASE_URL at the database as that login.
    """
    from accessgov.db.postgres import PostgresRegister

    register = app.register
    if not isinstance(register, PostgresRegister):
        raise InputError("'db setup' is for a register in PostgreSQL (--database URL); an "
                         "SQLite register is protected by its file's permissions (0600)")
    register.set_up_operators_role(role)
    done(f"The role {role} may now read and write the register's records and append to its "
         "audit log, never change or delete it. Give each operator a login in it: CREATE "
         f"ROLE name LOGIN IN ROLE {role}; then \\password name (in psql).")
