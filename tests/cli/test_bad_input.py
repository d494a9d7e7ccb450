"""Bad input gets one plain line on stderr, the right exit code, and changes nothing."""

from __future__ import annotations

import json
import os
import shlex
import stat
from pathlib import Path

import pytest

from tests.support.behind import behind_the_log, register_bytes
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


# -- hostile and absurd input (issue 8) ---------------------------------------------------

def refused_code_changes_only_the_count(before: dict, after: dict) -> None:
    """A rejected code is recorded (one mfa.code_rejected event, one failure counted), and
    nothing else changes."""
    assert after["audit"][:-1] == before["audit"]
    assert after["audit"][-1][3] == "mfa.code_rejected"
    assert {k: v for k, v in after.items() if k not in ("audit", "mfa")} == {
        k: v for k, v in before.items() if k not in ("audit", "mfa")}


# Full-width digits, Arabic-Indic digits, one full-width digit, full-width with a space.
OTHER_DIGITS = ["\uff11\uff12\uff13\uff14\uff15\uff16", "\u0660\u0661\u0662\u0663\u0664\u0665",
                "12345\uff16", "\uff11\uff12\uff13 \uff14\uff15\uff16"]


@pytest.mark.parametrize("code", OTHER_DIGITS)
def test_digits_of_other_scripts_are_a_malformed_code_counted_toward_lock_out(
        org: Shell, code: str) -> None:
    before = dump(org.db)
    result = org.run(["grant", "add", "jdoe", "instagram-main", "--role", "editor", "--reason",
                      "x", "--as", "vperkins", "--otp", code], expect=3)
    assert "a code is six digits (0-9)" in one_line_error(result)
    after = dump(org.db)
    refused_code_changes_only_the_count(before, after)
    failures = json.loads(org.run("audit log --action mfa.code_rejected --format json").stdout)
    assert failures[-1]["details"] == {"reason": "malformed", "failures_in_a_row": 1}


def test_five_malformed_codes_lock_the_person_out(org: Shell) -> None:
    for _ in range(5):
        org.run(["person", "update", "jdoe", "--title", "Lead", "--as", "vperkins", "--otp",
                 OTHER_DIGITS[1]], expect=3)
    result = org.run(f"person update jdoe --title Lead {org.as_('vperkins')}", expect=3)
    assert "locked out" in one_line_error(result)


def test_an_absurd_session_length_is_refused_plainly(org: Shell) -> None:
    before = dump(org.db)
    for ttl in ("99999999999999h", "1" * 5000 + "m", "999999999h999999999m"):
        result = org.run(f"login --ttl {ttl} {org.as_('vperkins')}", expect=2)
        assert "between 1 minute and 12 hours" in one_line_error(result)
    assert dump(org.db) == before


def test_a_huge_limit_shows_every_event(org: Shell) -> None:
    everything = org.run("audit log --format csv").stdout
    assert org.run("audit log --limit 99999999999999999999 --format csv").stdout == everything


@pytest.mark.parametrize(("target", "problem"), [
    ("/nonexistent/x.csv", "its folder does not exist"),
    ("/dev/full", "it is not a regular file"),
])
def test_an_unwritable_output_file_is_one_line(org: Shell, tmp_path: Path, target: str,
                                               problem: str) -> None:
    if target == "/dev/full" and not os.path.exists(target):
        pytest.skip(f"{target} is not on this machine")
    before = dump(org.db)
    result = org.run(f"grant list --format csv -o {target}", expect=2)
    assert f"cannot write {target}: {problem}" in one_line_error(result)
    assert dump(org.db) == before


def test_a_full_disk_is_one_line_and_leaves_no_half_file(org: Shell, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from accessgov.reports import files

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fd: int) -> None:
            self.handle = real_fdopen(fd, "w")

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fdopen", lambda fd, *a, **k: Full(fd))
    target = tmp_path / "grants.csv"
    result = org.run(f"grant list --format csv -o {target}", expect=2)
    assert "the disk is full" in one_line_error(result)
    assert not target.exists()


def test_an_export_is_private_whatever_was_there(org: Shell, tmp_path: Path) -> None:
    existing = tmp_path / "grants.csv"
    existing.write_text("old, longer content than the new one will be " * 100)
    existing.chmod(0o644)
    org.run(f"grant list --format csv -o {existing}")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    assert existing.read_text().startswith("id,")
    assert "old, longer" not in existing.read_text()


def test_an_export_onto_a_symbolic_link_is_refused(org: Shell, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "export.csv"
    link.symlink_to(victim)
    result = org.run(f"person list --format csv -o {link}", expect=2)
    assert "it is a symbolic link" in one_line_error(result)
    assert victim.read_text() == "keep me"


def test_an_anchor_with_an_absurd_seq_is_one_line(org: Shell, tmp_path: Path) -> None:
    for text in ('{"seq": 1e400, "mac": "x"}', '{"seq": 1.5, "mac": "x"}',
                 '{"seq": true, "mac": "x"}', '{"seq": 99999999999999999999, "mac": "x"}',
                 '{"seq": 1, "mac": 7}', "[" * 100000, "\xff"):
        anchor = tmp_path / "anchor.json"
        anchor.write_bytes(text.encode("latin-1") if text == "\xff" else text.encode())
        result = org.run(f"audit verify --anchor {anchor}", expect=2)
        assert "is not an audit anchor" in one_line_error(result)


@pytest.mark.parametrize(("option", "message"), [
    ("--vault-mount cubbyhole", "is not a KV version 2 mount"),
    ("--vault-mount sys/x", "is not a KV version 2 mount"),
    ("--vault-mount ''", "--vault-mount cannot be empty"),
    ("--vault-prefix ../../sys", "is not usable"),
    ("--vault-prefix a/../b", "is not usable"),
    ("--vault-prefix ''", "--vault-prefix cannot be empty"),
    ("--vault-prefix /", "--vault-prefix cannot be empty"),
])
def test_vault_mount_and_prefix_are_checked_at_init(tmp_path: Path, store: dict,
                                                    option: str, message: str) -> None:
    from click.testing import CliRunner

    from accessgov.cli import cli
    from accessgov.cli.app import App
    from tests.support.memory_backend import MemoryBackend

    db = tmp_path / "new" / "register.db"
    result = CliRunner().invoke(
        cli, ["--db", str(db), *shlex.split(
            f"init --org InterAct --backend vault --vault-url http://127.0.0.1:1 {option}")],
        obj=App(backend_factory=lambda config: MemoryBackend("x", store)))
    assert result.exit_code == 2, result.output
    assert message in one_line_error(result)
    assert not db.exists() and store == {}


CONTROLS = ["line1\nFAKE: approved by ceo\r", "\x1b]0;owned\x07", "tab\there", "a\x00b",
            "bell\x07", "csi\x9b2J", "rtl\u202eoverride", "next\u2028line"]


@pytest.mark.parametrize("value", CONTROLS, ids=[repr(v)[:14] for v in CONTROLS])
@pytest.mark.parametrize("command", [
    "person add kim --name {v} --email k@example.org --category volunteer {ceo}",
    "person update jdoe --title {v} {ceo}",
    "account add fb --platform facebook --handle {v} --owner vperkins --purpose p {spatel}",
    "account add fb --platform facebook --handle h --owner vperkins --purpose {v} {spatel}",
    "grant add jdoe instagram-main --role editor --reason {v} {ceo}",
    "grant request jdoe instagram-main --role editor --reason {v} {ceo}",
    "delegate add jdoe --all --board-minute {v} {ceo}",
    "mfa reset spatel --reason {v} {ceo}",
    "person add kim --name Kim --email {v}@example.org --category volunteer {ceo}",
])
def test_control_characters_are_refused_in_one_line_fields(org: Shell, command: str,
                                                           value: str) -> None:
    before = dump(org.db)
    filled = command.replace("{ceo}", org.as_("vperkins")).replace("{spatel}", org.as_("spatel"))
    args = [part.replace("{v}", value) for part in shlex.split(filled)]
    result = org.run(args, expect=2)
    line = one_line_error(result)
    assert "cannot hold" in line or "does not look like" in line
    assert not any(char in result.stderr.rstrip("\n") for char in value if not char.isalnum()
                   and char not in " :")
    assert dump(org.db) == before


def test_stored_control_characters_never_reach_the_screen_raw(shared: Shell) -> None:
    """Text written before these checks (or behind the register's back) is shown escaped:
    a reason cannot fake a line of `grant show`, nor a name retitle the terminal."""
    behind_the_log(shared.db, "UPDATE grants SET reason = ? WHERE id = 'G-0001'",
                   params=("Posts clips\nFAKE: approved by ceo\r",))
    behind_the_log(shared.db, "UPDATE people SET name = ? WHERE id = 'jdoe'",
                   params=("Jo\x1b]0;owned\x07",))
    for command in ("grant show G-0001", "grant list", "person list", "person show jdoe",
                    "audit log", "grant show G-0001 --format json", "person list --format json"):
        out = shared.run(command).stdout
        assert not any(line.startswith("FAKE") for line in out.splitlines()), command
        assert "\x1b" not in out and "\x07" not in out and "\r" not in out, command


def test_a_confirmation_line_escapes_what_it_echoes() -> None:
    import click
    from click.testing import CliRunner

    from accessgov.cli.options import done

    @click.command()
    def echo() -> None:
        done("Added kim (Kim\nFAKE: done, \x1b[2J).")

    assert CliRunner().invoke(echo).stdout == "Added kim (Kim FAKE: done, \\x1b[2J).\n"


def test_invalid_utf8_on_stdin_is_refused_and_nothing_is_stored(shared: Shell,
                                                                store: dict) -> None:
    from click.testing import CliRunner

    from accessgov.cli import cli
    from accessgov.cli.app import App

    before, secrets_before = dump(shared.db), repr(store)
    app = App(backend_factory=shared.backend_factory, clock=shared.clock,
              interactive=lambda: False)
    result = CliRunner().invoke(
        cli, ["--db", str(shared.db), *shlex.split(
            f"cred rotate tiktok-main --stdin {shared.as_('vperkins')}")],
        obj=app, input=b"caf\xe9-not-utf8\n")
    assert result.exit_code == 2, result.output
    assert "standard input is not UTF-8 text" in one_line_error(result)
    after = dump(shared.db)
    after["mfa"], before["mfa"] = [], []  # the code was spent on the attempt
    assert after == before and repr(store) == secrets_before


def test_invalid_utf8_on_the_command_line_is_refused(org: Shell) -> None:
    before = dump(org.db)
    result = org.run(["person", "add", "kim", "--name", "K\udcffm", "--email",
                      "k@example.org", "--category", "volunteer", *org.as_("vperkins").split()],
                     expect=2)
    assert "not UTF-8 text" in one_line_error(result)
    result = org.run(["grant", "list", "--person", "\udce9"], expect=2)
    assert "not UTF-8 text" in one_line_error(result)
    assert dump(org.db) == before


def test_delegation_dates_may_not_be_empty_nor_overlap(org: Shell) -> None:
    before = dump(org.db)
    for option in ("--until ''", "--from ''"):
        result = org.run(f"delegate add jdoe --all {option} {org.as_('vperkins')}", expect=2)
        assert "must be a date" in one_line_error(result)
    assert dump(org.db) == before
    org.run(f"delegate add jdoe --all {org.as_('vperkins')}")
    before = dump(org.db)
    result = org.run(f"delegate add jdoe --account instagram-main {org.as_('vperkins')}",
                     expect=2)
    one_line_error(result)
    after = dump(org.db)
    after["mfa"], before["mfa"] = [], []
    assert after == before


def test_a_damaged_audit_key_is_one_line(org: Shell, store: dict) -> None:
    (key,) = [history for path, history in store.items() if path.endswith("audit/key")]
    for version in key.versions:  # type: ignore[attr-defined]
        key.versions[version] = "not base64 at all!"  # type: ignore[attr-defined]
    before = dump(org.db)
    result = org.run(f"person update jdoe --title Lead {org.as_('vperkins')}", expect=4)
    assert "not base64" in one_line_error(result)
    assert dump(org.db) == before


@pytest.mark.parametrize("command", ["grant list", "person show jdoe", "audit log",
                                     "person add kim --name K --email k@example.org "
                                     "--category ceo"])
def test_another_sqlite_file_is_never_made_a_register(shell: Shell, tmp_path: Path,
                                                      command: str) -> None:
    import sqlite3

    notes = tmp_path / "notes" / "f.db"
    notes.parent.mkdir()
    with sqlite3.connect(notes) as conn:
        conn.execute("CREATE TABLE notes(x)")
    conn.close()
    original = notes.read_bytes()
    shell.db = notes
    result = shell.run(command, expect=2)
    assert "is not an accessgov register" in one_line_error(result)
    assert notes.read_bytes() == original
    assert [p.name for p in notes.parent.iterdir()] == ["f.db"]


def test_read_commands_leave_the_register_file_as_it_was(shared: Shell) -> None:
    original = register_bytes(shared.db)
    for command in ("grant list", "person show jdoe", "account list", "cred list",
                    "audit log --format json", "delegate list", "authority rules"):
        shared.run(command)
    assert register_bytes(shared.db) == original
