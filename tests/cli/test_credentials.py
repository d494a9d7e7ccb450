"""Credentials: set, reveal, rotate, adopt, shared-account codes, and who has seen what."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct

import pyotp

from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error


def creds(sh: Shell, account: str | None = None) -> list[dict]:
    """`cred list --format json`, validated against schemas/cred-list.schema.json."""
    option = f" --account {account}" if account else ""
    data = validate_output("cred-list", sh.run(f"cred list --format json{option}").stdout)
    assert isinstance(data, list)
    return data


def test_a_grant_holder_reveals_the_password_and_it_is_recorded(shared: Shell) -> None:
    result = shared.run("cred reveal tiktok-main --as jdoe --otp 123456", expect=3)
    assert "jdoe has not enrolled MFA" in one_line_error(result)
    shared.enrol("jdoe", by="vperkins")
    result = shared.run(f"cred reveal tiktok-main {shared.as_('jdoe')}")
    assert result.stdout == "Tt-first-Canary-7731"
    events = json.loads(shared.run("audit log --action cred.reveal --format json").stdout)
    assert [(e["actor"], e["details"]["version"]) for e in events] == [("jdoe", 1)]


def test_shared_login_grant_holders_count_as_exposed_without_revealing(shared: Shell) -> None:
    (password,) = creds(shared, "tiktok-main")
    # jdoe by the grant; vperkins typed the password in.
    assert password["exposed_to_current"] == ["jdoe", "vperkins"]
    assert password["version"] == 1 and password["backend"] == "memory"


def test_rotation_starts_a_fresh_exposure_list(shared: Shell) -> None:
    shared.run(f"grant revoke G-0001 --reason left {shared.as_('vperkins')}")
    shared.run(f"cred rotate tiktok-main --generate {shared.as_('vperkins')}")
    (password,) = creds(shared, "tiktok-main")
    assert password["version"] == 2 and password["exposed_to_current"] == []
    assert password["last_changed_by"] == "vperkins"


def test_rotation_while_a_grant_is_active_exposes_the_holder_again(shared: Shell) -> None:
    shared.run(f"cred rotate tiktok-main --stdin {shared.as_('vperkins')}", input="New-Pass-99\n")
    (password,) = creds(shared, "tiktok-main")
    assert password["version"] == 2 and password["exposed_to_current"] == ["jdoe", "vperkins"]


def test_a_generated_secret_nobody_saw_exposes_nobody_but_grant_holders(shared: Shell) -> None:
    shared.run(f"cred rotate tiktok-main --generate {shared.as_('vperkins')}")
    (password,) = creds(shared, "tiktok-main")
    assert password["exposed_to_current"] == ["jdoe"]


def test_generate_prints_nothing_unless_asked(shared: Shell) -> None:
    quiet = shared.run(f"cred rotate tiktok-main --generate --length 30 {shared.as_('vperkins')}")
    assert "version 2" in quiet.stdout and len(quiet.stdout.splitlines()) == 1
    shown = shared.run(f"cred rotate tiktok-main --generate --length 30 --show "
                       f"{shared.as_('vperkins')}")
    new_password = shown.stdout.splitlines()[-1]
    assert len(new_password) == 30
    (password,) = creds(shared, "tiktok-main")
    assert "vperkins" in password["exposed_to_current"]


def test_the_owner_can_set_and_only_holders_can_reveal(org: Shell) -> None:
    org.run(f"cred set instagram-main --kind recovery-codes --stdin {org.as_('vperkins')}",
            input="1111-2222\n3333-4444\n5555-6666\n")
    result = org.run(f"cred reveal instagram-main {org.as_('spatel')}", expect=3)
    assert "spatel has no active grant on instagram-main" in one_line_error(result)
    owner = org.run(f"cred reveal instagram-main {org.as_('vperkins')}")
    assert owner.stdout == "1111-2222\n3333-4444\n5555-6666"


def test_otp_gives_the_current_code_of_the_stored_seed(shared: Shell) -> None:
    seed = pyotp.random_base32()
    shared.run(f"cred set tiktok-main --kind totp-seed --stdin {shared.as_('vperkins')}",
               input=f"otpauth://totp/TikTok:interact?secret={seed}&issuer=TikTok\n")
    shared.enrol("jdoe", by="vperkins")
    code = shared.run(f"otp tiktok-main {shared.as_('jdoe')}").stdout.strip()
    assert code == pyotp.TOTP(seed).at(shared.clock.now)
    seeds = [c for c in creds(shared, "tiktok-main") if c["kind"] == "totp-seed"]
    assert seeds[0]["exposed_to_current"] == ["jdoe", "vperkins"]  # vperkins stored it


def rfc6238(seed_base32: str, moment: float) -> str:
    """An independent six-digit TOTP (SHA1, 30 s), straight from RFC 6238 / RFC 4226."""
    key = base64.b32decode(seed_base32 + "=" * (-len(seed_base32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(moment) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**6:06d}"


def test_an_80_bit_base32_seed_with_spaces_is_accepted(org: Shell) -> None:
    """Platforms still hand out short seeds like Google's classic example."""
    org.run(f"cred set instagram-main --kind totp-seed --stdin {org.as_('vperkins')}",
            input="jbsw y3dp ehpk 3pxp\n")
    code = org.run(f"otp instagram-main {org.as_('vperkins')}").stdout.strip()
    assert code == rfc6238("JBSWY3DPEHPK3PXP", org.clock.now.timestamp())


def test_bad_credential_input_changes_nothing(org: Shell) -> None:
    cases = [
        ("cred set instagram-main --kind totp-seed --stdin", "not-a-seed!\n", 2,
         "that is not a TOTP seed"),
        ("cred set instagram-main --kind password --stdin", "\n", 2, "the secret is empty"),
        ("cred set nowhere --kind password --stdin", "pw\n", 2, "there is no account 'nowhere'"),
        ("cred set instagram-main --kind pin --stdin", "pw\n", 2, "Invalid value for '--kind'"),
        ("cred set instagram-main --kind password", None, 2, "--stdin"),
        ("cred reveal instagram-main", None, 2, "has no credentials"),
        ("cred rotate instagram-main --stdin", "pw\n", 2, "use 'accessgov cred set' first"),
        ("otp instagram-main", None, 2, "has no TOTP seed"),
        ("cred list --account nowhere", None, 2, "there is no account 'nowhere'"),
    ]
    for command, stdin, code, message in cases:
        before = dump(org.db)
        result = org.run(f"{command} {org.as_('vperkins')}" if "list" not in command
                         else command, input=stdin, expect=code)
        assert message in one_line_error(result), command
        assert dump(org.db) == before, command


def test_mismatched_confirmation_stores_nothing(org: Shell, store: dict) -> None:
    before = dump(org.db)
    result = org.run(f"cred set instagram-main --kind password {org.as_('vperkins')}",
                     input="Secret-One-1\nSecret-Two-2\n", interactive=True, expect=2)
    assert result.stderr.startswith("New password: \nThe same password again: \n")
    assert "did not match" in result.stderr.strip().splitlines()[-1]
    assert "Secret-One-1" not in result.stdout + result.stderr
    assert dump(org.db) == before
    assert not any("instagram-main/password" in key for key in store)


def test_setting_twice_points_to_rotate(org: Shell) -> None:
    org.run(f"cred set instagram-main --kind password --stdin {org.as_('vperkins')}",
            input="pw-1\n")
    result = org.run(f"cred set instagram-main --kind password --stdin {org.as_('vperkins')}",
                     input="pw-2\n", expect=2)
    assert "use 'accessgov cred rotate" in one_line_error(result)


def test_a_volunteer_without_authority_cannot_set(org: Shell) -> None:
    org.enrol("jdoe", by="vperkins")
    result = org.run(f"cred set instagram-main --kind password --stdin {org.as_('jdoe')}",
                     input="pw\n", expect=3)
    assert "jdoe is not the CEO, a trustee or a delegate" in one_line_error(result)


def test_a_rotated_password_is_shown_once_at_a_terminal_and_its_rotator_can_reveal_it(
        shared: Shell) -> None:
    """Issue 16: `cred rotate --generate` left a password nobody could use: never shown, and
    the rotating CEO (no grant) could not reveal it; `--show` ended without a line break."""
    at_terminal = shared.run(f"cred rotate tiktok-main --generate --length 30 "
                             f"{shared.as_('vperkins')}", interactive=True)
    lines = at_terminal.stdout.splitlines()
    (shown,) = [line for line in lines if len(line) == 30 and " " not in line]
    assert at_terminal.stdout.endswith(f"\n{shown}\n")  # its own line, a line break after it
    assert "Change it on the platform now" in lines[0]
    (password,) = creds(shared, "tiktok-main")
    assert "vperkins" in password["exposed_to_current"]  # shown: she knows it

    piped = shared.run(f"cred rotate tiktok-main --generate {shared.as_('vperkins')}")
    assert "cred reveal tiktok-main" in piped.stdout and len(piped.stdout.splitlines()) == 1
    # vperkins holds no grant on tiktok-main and is not its owner, but she stored it.
    revealed = shared.run(f"cred reveal tiktok-main {shared.as_('vperkins')}")
    assert len(revealed.stdout) == 24  # alone, for a pipe
    event = json.loads(shared.run("audit log --format json").stdout)[-1]
    assert (event["action"], event["actor"]) == ("cred.reveal", "vperkins")
    (password,) = creds(shared, "tiktok-main")
    assert "vperkins" in password["exposed_to_current"]

    with_show = shared.run(f"cred rotate tiktok-main --generate --show "
                           f"{shared.as_('vperkins')}")
    assert with_show.stdout.endswith("\n") and len(with_show.stdout.splitlines()[-1]) == 24
    # Someone else who neither holds a grant nor stored it still may not reveal it.
    refused = shared.run(f"cred reveal tiktok-main {shared.as_('spatel')}", expect=3)
    assert "spatel" in refused.stderr


def test_cred_list_names_people_as_a_person_writes_a_list(shared: Shell) -> None:
    """Issue 16: the table showed who could know a password as `["a", "b"]`."""
    table = shared.run("cred list").stdout
    assert "jdoe" in table and '["' not in table
