"""Every command, driven with random arguments, ids, dates, codes and standard input.

A seeded generator walks the click tree as it is when the test runs (so commands added later
are covered too) and builds invocations from pools of good and hostile values. Whatever it
types, accessgov must answer as SPEC §3 says: no unexpected error (exit 70) and no traceback,
an exit code the spec knows, exactly one plain line on stderr when a command fails, and a
register left exactly as it was by every failure. Failures may add only the audit events
that record a refused attempt or a rejected code, and a rejected code may count toward a
lock-out: those are the record of the attempt, which the spec requires.

ACCESSGOV_FUZZ_RUNS sets how many invocations (default 2500, about 20 s here) and
ACCESSGOV_FUZZ_SEED the seed (default 8; the test prints both, and the count it ran). A second
test throws every crafted id and number of issue 15 (CRAFTED) at every parameter that takes
an id or a number, of every command. Import files are fuzzed in tests/transfer/.
"""

from __future__ import annotations

import os
import random
import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pyotp
import pytest

from accessgov.db.register import DatabaseUrl
from tests.support import commands
from tests.support.behind import read_rows
from tests.support.shell import Shell, dump

RUNS = int(os.environ.get("ACCESSGOV_FUZZ_RUNS", "2500"))
SEED = int(os.environ.get("ACCESSGOV_FUZZ_SEED", "8"))
SPEC_EXIT_CODES = {0, 1, 2, 3, 4, 130}
FINDINGS_COMMANDS = {"audit verify", "check"}  # exit 1 means findings only for these
# accessgov's prompts, which a terminal shows on stderr before any error.
PROMPT = re.compile(r"(Your person id|Code from .*?|Scan it, .*?|New .*?|The same .*?): ?")
TOLERATED_AFTER_FAILURE = {"refused", "mfa.code_rejected"}
# Columns a rejected code may change: the count toward a lock-out, and the row's seal.
MFA_ATTEMPT_COLUMNS = {"failures", "locked_until", "sealed_seq", "seal"}

# Ids and numbers crafted to reach int() or SQLite's integers (issue 15, item 7): digits that
# str.isdigit() takes but int() refuses (²), that int() reads as 0-9 (full-width,
# Arabic-Indic), more digits than int() takes (5,000) or than a 64-bit integer holds.
CRAFTED = ["G-\u00b2\u00b3\u00b9\u00b9", "D-\u00b2\u00b3\u00b9\u00b9", "O-\u00b2\u00b3\u00b9\u00b9",
           "PR-\u00b2\u00b3\u00b9\u00b9", "S-\u00b2\u00b3\u00b9\u00b9", "G-" + "9" * 5000,
           "G-99999999999999999999999", "G-9223372036854775807", "\u00b2", "\uff13", "\u0663",
           "9" * 5000, "9223372036854775808", "2026-Q\uff14"]
IDS = ["vperkins", "spatel", "jdoe", "instagram-main", "tiktok-main", "G-0001", "G-0002",
       "G-0003", "D-0001", "D-0002", "S-0001", "S-0002", "O-0001", "2026-Q4", "nobody",
       "mfa", "audit", "VPERKINS", "g-0001", "G-9999999999999999999999", *CRAFTED]
HOSTILE = ["", " ", "-", "--", "x" * 600, "\x1b[31mred\x1b[0m", "line1\nFAKE: approved\r",
           "tab\there", "nul\x00byte", "\u202eevil", "\u2028sep", "\x9b2J",
           "\uff11\uff12\uff13\uff14\uff15\uff16", "\u0660\u0661\u0662\u0663\u0664\u0665",
           "bad\udcffutf8", "0", "-1", "99999999999999999999", "1e400", "NaN", "inf",
           "2026-02-30", "2026-13-01", "2026-12-31", "1999-01-01", "9999-12-31", "31/12/2026",
           "15m", "0m", "13h", "99999999999999h", "' OR 1=1 --", "%s%n", "../../etc/passwd",
           "null", "{}", "[]", "Zo\u00eb", "\u65e5\u672c\u8a9e", "\U0001f642", "a@b.c",
           "+44 20 7946 0000", "http://127.0.0.1:1", "BM 2026/11 item 4", "123456", "000000"]
PEOPLE = ["vperkins", "spatel", "jdoe", "kim", "new-1"]
ACCOUNTS = ["instagram-main", "tiktok-main", "fb-news", "wa-youth"]
WORDS = ["Posts youth events", "Role changed", "BM 2026/11 item 4", "Kim Lee", "@interact",
         "Events and news", "Lead", "lost phone", "https://example.org", "ok"]
DATES = ["2026-12-31", "2030-01-01", "2001-01-01", "", "2026-02-29", "tomorrow"]
INTEGERS = ["1", "0", "-1", "24", "8", "99999999999999999999", "abc", "1.5", "\u00b2", "\uff13",
            "\u0663", "9" * 5000]
STDINS: list[str | bytes | None] = [
    None, "", "Secret-Password-1\n", b"caf\xe9 not utf-8\n", "line one\nline two\n",
    "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=x\n", "JBSWY3DPEHPK3PXP\n", "\x00\x1b\n",
    "y\n", "123456\n", "x" * 5000,
]


def leaf_commands() -> Iterator[tuple[list[str], click.Command]]:
    """Every command that runs (not a group), with its path, as the CLI has them now."""
    return commands.leaves()


class Typist:
    """Makes up invocations: mostly plausible, often hostile, sometimes with a right code."""

    def __init__(self, rng: random.Random, sh: Shell, files: dict[str, Path]) -> None:
        self.rng = rng
        self.sh = sh
        self.files = files

    def value(self, param: click.Parameter) -> str:
        """Half the time what a careful user would type; otherwise anything at all."""
        if self.rng.random() < 0.5:
            return self.plausible(param)
        return self.hostile(param)

    def plausible(self, param: click.Parameter) -> str:
        rng = self.rng
        kind, name = param.type, (param.name or "")
        hint = f"{name} {getattr(param, 'metavar', '') or ''}".lower()
        if isinstance(kind, click.Choice):
            return str(rng.choice(list(kind.choices)))
        if isinstance(kind, click.Path) or name in ("output_file", "anchor", "file", "path"):
            return str(self.files[rng.choice(["new", "existing", "json", "people"])])
        if isinstance(kind, click.types.IntParamType | click.IntRange):
            return rng.choice(["1", "3", "24"])
        if name == "otp":
            return self.code()
        if name == "ttl":
            return rng.choice(["15m", "1h", "2h30m"])
        if any(word in hint for word in ("date", "due", "until", "from", "expires", "start")):
            return rng.choice(["2030-01-31", "2031-06-30", self.sh.clock.now.date().isoformat()])
        if "email" in hint:
            return f"p{rng.randrange(1000)}@example.org"
        if "person" in hint or name in ("manager", "owner", "overseer", "delegate"):
            return rng.choice(PEOPLE)
        if "account" in hint:
            return rng.choice(ACCOUNTS)
        if "grant" in hint:
            return f"G-{rng.randrange(1, 6):04d}"
        if "delegation" in hint:
            return f"D-{rng.randrange(1, 4):04d}"
        if hint.strip() in ("person_id id", "account_id id") or name.endswith("_id"):
            return rng.choice([*PEOPLE, *ACCOUNTS, f"new-{rng.randrange(100)}"])
        return rng.choice(WORDS)

    def hostile(self, param: click.Parameter) -> str:
        rng = self.rng
        kind, name = param.type, (param.name or "")
        if isinstance(kind, click.Path) or name in ("output_file", "anchor", "file", "path"):
            return str(rng.choice(list(self.files.values())))
        if isinstance(kind, click.types.IntParamType | click.IntRange) and rng.random() < 0.5:
            return rng.choice(INTEGERS)
        if rng.random() < 0.3:
            return rng.choice([*IDS, *DATES])
        return rng.choice(HOSTILE)

    def code(self) -> str:
        person = self.rng.choice(list(self.sh.seeds))
        return self.sh.code(person)

    def invocation(self, path: list[str], command: click.Command) -> list[str]:
        rng = self.rng
        args: list[str] = []
        if rng.random() < 0.1:
            args.append("--local-time")
        args += path
        for param in command.params:
            if param.name == "help":
                continue
            if isinstance(param, click.Argument):
                if rng.random() < 0.95:
                    args.append(self.value(param))
                continue
            assert isinstance(param, click.Option)
            if param.is_flag:
                if rng.random() < 0.3:
                    args.append(param.opts[0])
                continue
            if param.name == "operator":
                if rng.random() < 0.6:
                    person = rng.choice([*self.sh.seeds, "jdoe", "nobody"])
                    args += ["--as", person]
                    if person in self.sh.seeds and rng.random() < 0.7:
                        args += ["--otp", self.sh.code(person)]
                continue
            present = param.required or rng.random() < 0.4
            for _ in range(rng.choice([1, 1, 2]) if param.multiple else 1):
                if present:
                    args += [param.opts[0], self.value(param)]
        if rng.random() < 0.04:
            args.append(rng.choice(["--bogus", "extra-argument", "-o"]))
        return args

    def stdin(self) -> str | bytes | None:
        return self.rng.choice(STDINS)


def error_lines(stderr: str, interactive: bool) -> list[str]:
    """What stderr says besides the prompts a terminal showed (and the answers typed)."""
    lines = []
    for line in stderr.split("\n"):
        prompt = PROMPT.match(line) if interactive else None
        if prompt:
            line = line[prompt.end():]
            if not line.startswith(("Error:", "Aborted:", "Stopped ")):
                continue  # the answer typed at the prompt, echoed
        if line.strip():
            lines.append(line)
    return lines


def state(db: Path | DatabaseUrl) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, leaving out what a refused attempt may legitimately change."""
    snapshot = {}
    for table, rows in dump(db).items():
        if table == "mfa":
            columns = [row[0] for row in read_rows(
                db, "SELECT name FROM pragma_table_info('mfa') ORDER BY cid")] if isinstance(
                db, Path) else [row[0] for row in read_rows(
                    db, "SELECT column_name FROM information_schema.columns WHERE table_name "
                    "= 'mfa' AND table_schema = current_schema() ORDER BY ordinal_position")]
            keep = [n for n, column in enumerate(columns) if column not in MFA_ATTEMPT_COLUMNS]
            rows = [tuple(row[n] for n in keep) for row in rows]
        snapshot[table] = rows
    return snapshot


def assert_unchanged_but_for_the_record(before: dict[str, list[tuple[Any, ...]]],
                                        after: dict[str, list[tuple[Any, ...]]],
                                        typed: str) -> None:
    old, new = before.pop("audit"), after.pop("audit")
    assert new[:len(old)] == old, f"the audit log was rewritten by: {typed}"
    added = {row[3] for row in new[len(old):]}  # seq, at, actor, action, ...
    assert added <= TOLERATED_AFTER_FAILURE, f"{added} recorded by a failure: {typed}"
    assert after == before, f"the register changed although this failed: {typed}"


def hostile_files(tmp_path: Path) -> dict[str, Path]:
    """Where -o and file arguments may point: all inside this test's own folder."""
    folder = tmp_path / "files"
    folder.mkdir()
    files = {"new": folder / "new.csv", "missing-folder": folder / "no" / "x.csv",
             "folder": folder, "existing": folder / "existing.csv",
             "symlink": folder / "link.csv", "json": folder / "anchor.json",
             "garbage": folder / "garbage.bin", "people": folder / "people.csv"}
    files["existing"].write_text("old export\n")
    files["existing"].chmod(0o644)
    files["symlink"].symlink_to(files["existing"])
    files["json"].write_text('{"seq": 1e400, "mac": "x"}')
    files["garbage"].write_bytes(bytes(range(256)) * 4)
    files["people"].write_text("id,name,email,category\nkim,Kim \x1b[2J,k@example.org,ceo\n"
                               "lee,,not-an-email,pirate\n")
    return files


def test_every_command_survives_random_and_hostile_input(shared: Shell, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    rng = random.Random(SEED)
    typist = Typist(rng, shared, hostile_files(tmp_path))
    commands = list(leaf_commands())
    started = time.monotonic()
    seen: dict[int, int] = {}
    for number in range(RUNS):
        path, command = rng.choice(commands)
        args = typist.invocation(path, command)
        stdin = typist.stdin()
        typed = f"#{number} accessgov {shlex.join(args)!s} < {stdin!r}"[:400]
        if rng.random() < 0.02:
            shared.clock.advance(16 * 60)  # let lock-outs and sessions run out now and then
        before = state(shared.db)
        interactive = rng.random() < 0.2
        result = shared.run(args, expect=None, input=stdin,  # type: ignore[arg-type]
                            interactive=interactive)
        seen[result.exit_code] = seen.get(result.exit_code, 0) + 1
        output = result.stdout + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{typed}: {result.exception!r}")
        assert result.exit_code in SPEC_EXIT_CODES, f"{typed} exited {result.exit_code}: {output}"
        assert "Traceback" not in output, typed
        if result.exit_code == 1:
            assert " ".join(path) in FINDINGS_COMMANDS, f"{typed} exited 1: {output}"
        if result.exit_code in (0, 1):
            continue
        lines = error_lines(result.stderr, interactive)
        assert len(lines) == 1, f"{typed}: stderr {result.stderr!r}"
        assert_unchanged_but_for_the_record(before, state(shared.db), typed)
    with capsys.disabled():
        print(f"\nfuzz: {RUNS} invocations of {len(commands)} commands in "
              f"{time.monotonic() - started:.1f} s (seed {SEED}); exit codes "
              f"{sorted((int(code), count) for code, count in seen.items())}")
    assert pyotp  # the Shell makes the codes; imported here for the reader's benefit


# Parameters that take an id or a number (by name): the crafted ones go to each of them.
ID_PARAMETERS = {"person_id", "account_id", "grant_id", "delegation_id", "quarter", "item",
                 "limit", "length", "value", "manager", "owner", "overseer", "accounts",
                 "subject"}


def crafted_invocations(typist: Typist) -> Iterator[tuple[list[str], str]]:
    """For every command, each of its id or number parameters given each crafted value, the
    others what a careful user would type (with a code, for the commands that change)."""
    for path, command in leaf_commands():
        params = [param for param in command.params if param.name in ID_PARAMETERS]
        for target in params:
            for crafted in CRAFTED:
                args = list(path)
                for param in command.params:
                    if param.name == "operator":
                        args += ["--as", "vperkins", "--otp", typist.sh.code("vperkins")]
                    elif param is target:
                        value = crafted
                    elif isinstance(param, click.Argument) or (
                            isinstance(param, click.Option) and param.required):
                        value = typist.plausible(param)
                    else:
                        continue
                    if param.name != "operator":
                        assert isinstance(param, click.Argument | click.Option)
                        args += ([] if isinstance(param, click.Argument) else [param.opts[0]])
                        args.append(value)
                yield args, f"{' '.join(path)} {target.name}={crafted[:30]!r}"


def test_every_id_parameter_refuses_crafted_ids(shared: Shell, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    typist = Typist(random.Random(SEED), shared, hostile_files(tmp_path))
    started, runs = time.monotonic(), 0
    seen: dict[int, int] = {}
    for args, typed in crafted_invocations(typist):
        before = state(shared.db)
        result = shared.run(args, expect=None)
        runs += 1
        seen[result.exit_code] = seen.get(result.exit_code, 0) + 1
        output = result.stdout + result.stderr
        assert result.exit_code in SPEC_EXIT_CODES, f"{typed} exited {result.exit_code}: {output}"
        assert "Traceback" not in output, typed
        if result.exit_code in (0, 1):
            continue
        assert len(error_lines(result.stderr, False)) == 1, f"{typed}: {result.stderr!r}"
        assert_unchanged_but_for_the_record(before, state(shared.db), typed)
    with capsys.disabled():
        print(f"\ncrafted ids: {runs} invocations ({len(CRAFTED)} values) in "
              f"{time.monotonic() - started:.1f} s; exit codes {sorted(seen.items())}")
    assert runs > 300
