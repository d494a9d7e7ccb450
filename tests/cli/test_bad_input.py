"""Bad input gets one plain line on stderr, the right exit code, and changes nothing."""

from __future__ import annotations

import pytest

from tests.support.shell import Shell, dump, one_line_error

CEO = "{ceo}"  # replaced by --as vperkins --otp <fresh code>

CASES = [
    # unknown or duplicate ids
    ("grant add nobody instagram-main --role editor --reason x " + CEO, 2,
     "there is no person 'nobody'"),
    ("grant add jdoe no-such-account --role editor --reason x " + CEO, 2,
     "there is no account 'no-such-account'"),
    ("grant revoke G-9999 --reason x " + CEO, 2, "there is no grant 'G-9999'"),
    ("grant approve G-9999 " + CEO, 2, "there is no grant 'G-9999'"),
    ("person show nobody", 2, "there is no person 'nobody'"),
    ("account show nothing", 2, "there is no account 'nothing'"),
    ("grant list --person nobody", 2, "there is no person 'nobody'"),
    ('person add jdoe --name "Jo Again" --email j@example.org --category employee ' + CEO, 2,
     "already a person 'jdoe'"),
    ("account add instagram-main --platform instagram --handle @x --owner vperkins "
     "--purpose y " + CEO, 2, "already an account 'instagram-main'"),
    ("delegate revoke D-0042 --reason x " + CEO, 2, "there is no delegation 'D-0042'"),
    # bad values
    ("grant add jdoe instagram-main --role editor --reason x --expires 2026-13-01 " + CEO, 2,
     "--expires must be a date written as YYYY-MM-DD"),
    ("grant add jdoe instagram-main --role editor --reason x --expires 2001-01-01 " + CEO, 2,
     "is in the past"),
    ("grant add jdoe instagram-main --role overlord --reason x " + CEO, 2,
     "Invalid value for '--role'"),
    ('person add kim --name Kim --email not-an-email --category volunteer ' + CEO, 2,
     "does not look like an email address"),
    ('person add kim --name Kim --email k@example.org --category pirate ' + CEO, 2,
     "Invalid value for '--category'"),
    ('person add "Bad Id" --name Kim --email k@example.org --category volunteer ' + CEO, 2,
     "is not a usable id"),
    ('person add kim --name Kim --email k@example.org --category volunteer --start 31/12/2026 '
     + CEO, 2, "--start must be a date"),
    ("account add myspace --platform myspace --handle @x --owner vperkins --purpose y " + CEO, 2,
     "unknown platform 'myspace'"),
    ('person add kim2 --name "Kim" --email k@example.org --category ceo ' + CEO, 2,
     "vperkins is already the active CEO"),
    ("login --ttl forever " + CEO, 2, "--ttl must be a duration"),
    ("grant list --status maybe", 2, "Invalid value for '--status'"),
    ("audit log --limit 0", 2, "Invalid value for '--limit'"),
    ("frobnicate", 2, "No such command 'frobnicate'"),
    ("grant add jdoe instagram-main --reason x " + CEO, 2, "Missing option '--role'"),
    # refused: authority and MFA
    ("grant add vperkins instagram-main --role admin --reason me " + CEO, 3,
     "vperkins cannot approve their own access"),
    ("grant add spatel instagram-main --role editor --reason x --as jdoe --otp 123456", 3,
     "jdoe is not the CEO, a trustee or a delegate"),
    ("delegate add jdoe --all --as spatel --otp 123456", 3,
     "only the CEO can give delegations; spatel is not"),
    ("grant add jdoe instagram-main --role editor --reason x --as vperkins --otp 12345", 3,
     "six digits"),
]


def fill(org: Shell, command: str) -> str:
    return command.replace(CEO, org.as_("vperkins")) if CEO in command else command


@pytest.mark.parametrize(("command", "exit_code", "message"), CASES,
                         ids=[case[0][:50] for case in CASES])
def test_bad_input_is_one_line_and_changes_nothing(org: Shell, command: str, exit_code: int,
                                                   message: str) -> None:
    before = dump(org.db)
    result = org.run(fill(org, command), expect=exit_code)
    assert message in one_line_error(result)
    after = dump(org.db)
    if "six digits" in message:  # a rejected code is itself recorded, and nothing else
        assert after["audit"][:-1] == before["audit"]
        after["mfa"], before["mfa"], after["audit"] = [], [], before["audit"]
    elif exit_code == 3:  # a refused attempt is itself recorded, and nothing else
        assert after["audit"][:-1] == before["audit"]
        assert after["audit"][-1][3] == "refused"
        after["audit"] = before["audit"]
    assert after == before


def test_a_role_the_platform_does_not_offer_is_refused(org: Shell) -> None:
    org.run(f"account add wa-youth --platform whatsapp --handle 'Youth group' --owner vperkins "
            f"--purpose 'Youth group chat' --overseer jdoe {org.as_('spatel')}")
    result = org.run(f"grant add jdoe wa-youth --role editor --reason x {org.as_('vperkins')}",
                     expect=2)
    assert "does not have an 'editor' role" in one_line_error(result)


def test_a_platform_without_roles_cannot_be_delegated(org: Shell) -> None:
    result = org.run(f"account add bsky --platform bluesky --handle @interact.bsky.social "
                     f"--owner vperkins --purpose News --access delegated {org.as_('vperkins')}",
                     expect=2)
    assert "use --access shared-login" in one_line_error(result)


def test_a_missing_register_is_explained(tmp_path, shell: Shell) -> None:
    shell.db = tmp_path / "elsewhere.db"
    result = shell.run("grant list", expect=2)
    assert "there is no register at" in one_line_error(result)
    assert "accessgov init" in result.stderr


def test_init_twice_is_refused(shell: Shell) -> None:
    result = shell.run("init --org InterAct --backend vault --vault-url http://127.0.0.1:1",
                       expect=2)
    assert "a register already exists" in one_line_error(result)
