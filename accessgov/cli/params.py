"""Click types for ids and numbers typed on the command line: digits 0-9 only, and a bounded
count of them (accessgov.common.validate), so '²', a full-width 3 or a 5,000-digit number is
an input error naming the argument, never a surprise further down."""

from __future__ import annotations

from typing import Any

import click

from accessgov.common import validate
from accessgov.errors import InputError


class ShortId(click.types.StringParamType):
    """An id like G-0001: its prefix, '-', and up to validate.MAX_DIGITS digits 0-9."""

    name = "id"

    def __init__(self, prefix: str, what: str) -> None:
        self.prefix = prefix
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        try:
            return validate.short_id(str(value), self.prefix, self.what)
        except InputError as error:
            self.fail(str(error), param, ctx)


class WholeNumber(click.types.IntParamType):
    """A whole number written with the digits 0-9, from `minimum` to `maximum`; with
    `at_most`, a bigger one is taken as `maximum` (validate.whole_number).

    click's INT takes whatever int() takes: full-width and Arabic-Indic digits (as if they
    were 0-9), and up to 4,300 of them."""

    def __init__(self, minimum: int = 0, maximum: int = validate.MAX_NUMBER, *,
                 at_most: bool = False) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.at_most = at_most

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):  # a default
            return value
        try:
            return validate.whole_number(str(value), "it", minimum=self.minimum,
                                         maximum=self.maximum, at_most=self.at_most)
        except InputError as error:
            self.fail(str(error), param, ctx)

    def __repr__(self) -> str:
        return f"WholeNumber({self.minimum}, {self.maximum})"


GRANT_ID = ShortId("G", "grant")
DELEGATION_ID = ShortId("D", "delegation")
