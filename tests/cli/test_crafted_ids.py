"""Ids and numbers typed on the command line are digits 0-9, at most 9 of them (issue 15,
item 7): '²' (which str.isdigit() takes and int() refuses), full-width or Arabic-Indic
digits (which int() reads as 0-9), 5,000 digits (beyond int()) or 23 (beyond SQLite's
integers) are each refused with exit 2 and one line naming the argument, and the register
is left as it was."""

from __future__ import annotations

import pytest

from tests.support.shell import Shell, dump, one_line_error

NUMBERS = ["\u00b2", "\uff13", "\u0663", "9" * 5000, "99999999999999999999999", "1e3", "-1",
           " 3x"]
DIGITS = ["\u00b2\u00b3\u00b9\u00b9", "\uff10\uff10\uff10\uff11", "9" * 5000,
          "99999999999999999999999", "9223372036854775807", "1000000000"]


@pytest.fixture
def busy(shared: Shell) -> Shell:
    """shared, with an access review and an offboarding case open, so that every number
    typed below would reach a query if it were let through."""
    shared.run(f"review start {shared.as_('vperkins')}")
    shared.run(f"delegate add jdoe --account instagram-main {shared.as_('vperkins')}")
    shared.run(f"person add kim --name 'Kim Lee' --email k@example.org --category volunteer "
               f"{shared.as_('vperkins')}")
    shared.run(f"offboard start kim {shared.as_('vperkins')}")
    return shared


def refused(sh: Shell, command: str, *, naming: str) -> str:
    before = dump(sh.db)
    result = sh.run(command, expect=2)
    line = one_line_error(result)
    assert naming in line, line
    assert len(line) < 300, line
    assert dump(sh.db) == before
    return line


def quarter(sh: Shell) -> str:
    return sh.clock.now.strftime("%Y") + f"-Q{(sh.clock.now.month - 1) // 3 + 1}"


@pytest.mark.parametrize("digits", DIGITS)
def test_a_crafted_grant_or_delegation_id(busy: Shell, digits: str) -> None:
    sh = busy
    for command in (f"grant approve G-{digits} {sh.as_('vperkins')}",
                    f"grant decline G-{digits} --reason no {sh.as_('vperkins')}",
                    f"grant revoke G-{digits} --reason no {sh.as_('vperkins')}",
                    f"grant show G-{digits}"):
        line = refused(sh, command, naming="Invalid value for 'GRANT'")
        assert "is not a grant id" in line
    line = refused(sh, f"delegate revoke D-{digits} --reason no {sh.as_('vperkins')}",
                   naming="Invalid value for 'DELEGATION'")
    assert "is not a delegation id" in line


def test_a_well_formed_id_that_is_not_there_is_still_not_found(busy: Shell) -> None:
    line = refused(busy, f"grant approve G-999999999 {busy.as_('vperkins')}",
                   naming="there is no grant 'G-999999999'")
    assert line == "Error: there is no grant 'G-999999999' in the register"


@pytest.mark.parametrize("number", NUMBERS)
def test_a_crafted_number(busy: Shell, number: str) -> None:
    sh = busy
    # Options first: after `--`, '-1' is an argument, not an option.
    refused(sh, f"review decide {sh.as_('spatel')} -- {quarter(sh)} '{number}' keep",
            naming="Invalid value for '[ITEM]'")
    refused(sh, f"offboard done {sh.as_('vperkins')} -- kim '{number}'",
            naming="Invalid value for 'ITEM'")
    refused(sh, f"cred rotate tiktok-main --generate --length '{number}' {sh.as_('vperkins')}",
            naming="Invalid value for '--length'")
    refused(sh, f"policy set {sh.as_('vperkins')} -- credential-max-age-days '{number}'",
            naming="credential-max-age-days must be a whole number of days from 1 to 3650")
    if not number.isascii() or not number.strip().isdigit():
        refused(sh, f"audit log --limit '{number}'", naming="Invalid value for '--limit'")


def test_a_huge_limit_is_every_event_but_a_crafted_one_is_refused(busy: Shell) -> None:
    everything = busy.run("audit log --format json").stdout
    assert busy.run(f"audit log --limit {'9' * 5000} --format json").stdout == everything
    refused(busy, "audit log --limit \u00b2", naming="Invalid value for '--limit'")


@pytest.mark.parametrize("name", ["\uff12\uff10\uff12\uff16-Q4", "2026-Q\uff14",
                                  "\u00b2" * 4 + "-Q1"])
def test_a_quarter_in_other_digits(busy: Shell, name: str) -> None:
    refused(busy, f"review show {name}", naming="a review is named by its quarter")


def test_columns_in_other_digits_are_no_width(busy: Shell,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    everything = busy.run("grant list").stdout
    for columns in ("\u00b2", "\uff18\uff10", "9" * 5000):
        monkeypatch.setenv("COLUMNS", columns)
        assert busy.run("grant list").stdout == everything
