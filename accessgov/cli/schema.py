"""accessgov schema [NAME]: the JSON Schemas of accessgov's files and JSON output, as shipped
inside the package (so an installed accessgov has them, not only a checkout)."""

from __future__ import annotations

from importlib import resources

import click

from accessgov.errors import NotFound


def _names() -> list[str]:
    folder = resources.files("accessgov") / "schemas"
    return sorted(entry.name.removesuffix(".schema.json") for entry in folder.iterdir()
                  if entry.name.endswith(".schema.json"))


@click.command()
@click.argument("name", required=False, metavar="NAME")
def schema(name: str | None) -> None:
    """Print the JSON Schema NAME (e.g. import-people, grant-list); without NAME, list them.

    Each command's --format json output, each import file's columns and the export are
    described by one of these schemas.
    """
    names = _names()
    if name is None:
        click.echo("\n".join(names))
        return
    name = name.removesuffix(".json").removesuffix(".schema")
    if name not in names:
        raise NotFound(f"there is no schema {name!r}; 'accessgov schema' lists them")
    click.echo((resources.files("accessgov") / "schemas" / f"{name}.schema.json")
               .read_text(encoding="utf-8"), nl=False)
