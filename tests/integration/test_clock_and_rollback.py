"""Issue 13, items 2 and 3: a clock no operator controls, and a register put back from a copy.

The attacks of the issue, run with the real program in subprocesses: the clock set with
Debian's `faketime` (no root needed), the register copied with `cp` (file, -wal and -shm).
In the keyring (and the test's memory store, which behaves the same) a change dated before
the log's last event is refused, so setting the clock back revives nothing; a clock set far
ahead locks nobody out beyond its own 15 minutes, and `audit verify` names what it dated.
With OpenBao every change is dated by the server, and a local clock more than two minutes off
is refused outright. On all three stores, a register put back after an offboarding is refused
for every change and named by `audit verify`, even when the old head is written back into
the store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import shutil
import sqlite3
from pathlib import Path

import pytest

from accessgov.audit import head as chain_head
from accessgov.db.register import Register
from accessgov.secrets.config import BackendConfig
from accessgov.secrets.openbao.head import Head
from tests.support import servers
from tests.support.clocked import WITH_MEMORY_STORE, ClockedTerminal, clocked_terminal
from tests.support.memory_backend import WITH_MEMORY
from tests.support.shell import dump, seed_from_uri

pytestmark = pytest.mark.integration

CANARY = "Tt-Canary-7731-clock"
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
CLOCK_BEHIND = "earlier than the audit log's last event"
RESTORED = "this register is older than its last recorded change: restored from a copy?"


@dataclasses.dataclass
class Story:
    """InterAct's register run through the real program, each command at a time of the
    story's own: one minute after the one before, unless told otherwise."""

    term: ClockedTerminal
    now: dt.datetime

    def run(self, command: str, *, by: str | None = None, at: dt.datetime | None = None,
            expect: int | None = 0, stdin: str | None = None) -> str:
        """Run `command` (as `by`, with their code for that moment); stdout and stderr."""
        if at is None:
            self.now += MINUTE
            at = self.now
        if by:
            command += f" --as {by} --otp {self.term.code(by, at)}"
        result = self.term.run(command, at=at, expect=expect, stdin=stdin)
        return result.stdout + result.stderr

    def enrol(self, person: str, *, by: str | None = None) -> None:
        """`by` invites (after set-up), then `person` enrols and confirms with a first code."""
        if by:
            self.run(f"mfa enrol {person}", by=by)
        self.now += MINUTE
        uri = self.term.run(f"mfa enrol {person} --as {person}", at=self.now).stdout
        self.term.seeds[person] = seed_from_uri(uri.splitlines()[0])
        self.run(f"mfa verify {person} --otp {self.term.code(person, self.now + MINUTE)}")


def begin(term: ClockedTerminal, init: str, start: dt.datetime) -> Story:
    """init, the CEO and a trustee with MFA, three members of staff, a shared TikTok account
    with its password: set-up is done by the time this returns."""
    story = Story(term, start)
    story.run(f"init --org InterAct --slug t{secrets.token_hex(4)} {init}")
    story.run('person add vperkins --name "Vickie Perkins" --email v@example.org '
              '--category ceo')
    story.run('person add spatel --name "Sonal Patel" --email s@example.org --category trustee')
    for person in ("jdoe", "del1", "kim"):
        story.run(f"person add {person} --name {person.title()} --email {person}@example.org "
                  "--category employee")
    story.run("account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
              "--purpose 'Short videos' --access shared-login --mfa totp")
    story.enrol("vperkins")
    story.run("cred set tiktok-main --kind password --stdin", by="vperkins", stdin=CANARY)
    for person in ("spatel", "jdoe", "del1", "kim"):
        story.enrol(person, by="vperkins")
    return story


def memory_store(tmp_path: Path) -> tuple[ClockedTerminal, str]:
    """A terminal whose program knows the test's memory store, and its init options."""
    file = tmp_path / "store.json"
    return (clocked_terminal(tmp_path, WITH_MEMORY_STORE),
            f"--backend memory --memory-file {file}")


@pytest.fixture(params=["memory", "keyring"])
def local(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[ClockedTerminal, str]:
    """The stores whose changes this computer's clock dates: the test's memory store, and
    the real Secret Service keyring."""
    if request.param == "memory":
        return memory_store(tmp_path)
    request.getfixturevalue("secret_service")
    return clocked_terminal(tmp_path), "--backend keyring"


def ten_days_ago() -> dt.datetime:
    """Where the stories start: far enough back that their present is still in the past."""
    return (dt.datetime.now(dt.UTC) - 10 * DAY).replace(hour=9, minute=0, second=0,
                                                        microsecond=0)


# -- the keyring: the clock set back ---------------------------------------------------------


def test_a_clock_set_back_revives_nothing(local: tuple[ClockedTerminal, str]) -> None:
    term, init = local
    start = ten_days_ago()
    story = begin(term, init, start)
    day1, day2 = (start + DAY).date().isoformat(), (start + 2 * DAY).date().isoformat()
    story.run(f"delegate add del1 --account tiktok-main --until {day1}", by="vperkins")
    story.run(f"grant add jdoe tiktok-main --role member --reason Posts --expires {day1}",
              by="vperkins")
    story.run("grant add kim tiktok-main --role member --reason Posts", by="vperkins")
    story.run(f"offboard start kim --leave-date {day2} --reason Leaving", by="vperkins")
    story.run(f"login --as jdoe --otp {term.code('jdoe', story.now + MINUTE)}")
    opened = story.now
    # While they are live, the session and the grant work (these are not the attacks).
    assert CANARY in story.run("cred reveal tiktok-main", at=opened + 5 * MINUTE)
    assert CANARY in story.run("cred reveal tiktok-main", by="jdoe",
                               at=start + DAY + 2 * 60 * MINUTE)

    present = start + 3 * DAY
    # The expiries and kim's leave date have passed, but no change has carried them out yet:
    # at the real time her attempt and jdoe's are refused (and recorded), and everything is
    # still waiting for the next change. Each attack below works if its clock is believed.
    story.run("cred reveal tiktok-main", by="kim", at=present, expect=3)
    story.run("cred reveal tiktok-main", by="jdoe", at=present + MINUTE, expect=3)
    before = dump(term.db)
    attacks = [
        ("an expired delegation approves",
         "grant add spatel tiktok-main --role member --reason Posts", "del1",
         start + DAY + 60 * MINUTE),
        ("an expired session reveals", "cred reveal tiktok-main", None, opened + 6 * MINUTE),
        ("an expired grant reveals", "cred reveal tiktok-main", "jdoe",
         start + DAY + 2 * 60 * MINUTE + MINUTE),
        ("a scheduled leaver reveals a password", "cred reveal tiktok-main", "kim",
         start + DAY + 3 * 60 * MINUTE),
    ]
    for name, command, who, back in attacks:
        refused = story.run(command, by=who, at=back, expect=3)
        assert CLOCK_BEHIND in refused and CANARY not in refused, name
        assert len(refused.strip().splitlines()) == 1, refused
        assert dump(term.db) == before, f"{name}: the register changed"
    # The next change carries out what was due.
    story.run("person add ana --name Ana --email a@example.org --category volunteer",
              by="spatel", at=present + 2 * MINUTE)
    assert "intact" in term.run("audit verify").stdout


def test_wrong_codes_from_fifty_years_ahead_lock_nobody_out(
        local: tuple[ClockedTerminal, str]) -> None:
    term, init = local
    story = begin(term, init, ten_days_ago())
    ahead = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ahead = ahead.replace(year=ahead.year + 50)
    for attempt in range(5):
        refused = story.run("login --as spatel --otp 000000", at=ahead + attempt * MINUTE,
                            expect=3)
        assert "not correct" in refused
    # Under that clock the lock holds, for its 15 minutes.
    assert "locked out" in story.run("login", by="spatel", at=ahead + 6 * MINUTE, expect=3)
    with sqlite3.connect(term.db) as conn:
        (until,) = conn.execute("SELECT locked_until FROM mfa WHERE person = 'spatel'"
                                ).fetchone()
    assert until.startswith(str(ahead.year))  # as that clock saw it ...
    verified = term.run("audit verify", expect=1).stdout
    assert verified.count("in the future") == 6  # five codes and the locked-out attempt

    # ... but at the real time nobody is locked out: the log's time is ahead of the clock,
    # so changes wait for an approver's acknowledgement, which the lock does not stop.
    real = dt.datetime.now(dt.UTC).replace(microsecond=0) - 60 * MINUTE
    person = "person add bob --name Bob --email b@example.org --category volunteer"
    assert CLOCK_BEHIND in story.run(person, by="spatel", at=real, expect=3)
    done = story.run("clock acknowledge --board-minute 'BM 2026/12 item 3'", by="spatel",
                     at=real + MINUTE)
    assert "steps back" in done
    story.run(person, by="spatel", at=real + 2 * MINUTE)
    story.run("login", by="spatel", at=real + 3 * MINUTE)
    verified = term.run("audit verify").stdout
    assert "intact" in verified and "acknowledged (board minute BM 2026/12 item 3)" in verified
    log = json.loads(term.run("audit log --action clock --format json").stdout)
    assert [(event["actor"], event["details"]["board_minute"]) for event in log] == [
        ("spatel", "BM 2026/12 item 3")]


def test_the_clock_cannot_be_acknowledged_silently_or_needlessly(
        local: tuple[ClockedTerminal, str]) -> None:
    term, init = local
    story = begin(term, init, ten_days_ago())
    ack = "clock acknowledge --board-minute BM1"
    assert "nothing to acknowledge" in story.run(ack, by="vperkins", expect=2)
    back = story.now - 60 * MINUTE
    assert "only the CEO or a trustee" in story.run(ack, by="jdoe", at=back, expect=3)
    story.run(ack, at=back, expect=3)  # no code, no session
    # The refusals are on record, never dated before the log's last event.
    times = [event["at"] for event in json.loads(term.run("audit log --format json").stdout)]
    assert times == sorted(times)
    assert "intact" in term.run("audit verify").stdout
    # Item 4: the CEO and a trustee both act in a keyring register: check says what that is.
    checked = json.loads(term.run("check --format json", expect=1).stdout)
    keyring = [f["message"] for f in checked["findings"] if f["rule"] == "SEC-007"]
    assert len(keyring) == (1 if init.endswith("keyring") else 0)


# -- OpenBao: the server's clock ---------------------------------------------------------------


def test_with_openbao_a_clock_off_by_more_than_two_minutes_is_refused(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    term = clocked_terminal(tmp_path)
    term.run(f"init --org InterAct --slug t{secrets.token_hex(4)} --backend vault "
             f"--vault-url {openbao.url}")
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org '
             '--category ceo')
    term.run("account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
             "--purpose 'Short videos' --access shared-login --mfa totp")
    uri = term.run("mfa enrol vperkins --as vperkins").stdout.splitlines()[0]
    term.seeds["vperkins"] = seed_from_uri(uri)
    now = dt.datetime.now(dt.UTC)
    term.run(f"mfa verify vperkins --otp {term.code('vperkins', now - 30 * dt.timedelta(0, 1))}")
    term.run(f"cred set tiktok-main --kind password --stdin --as vperkins "
             f"--otp {term.code('vperkins', now)}", stdin=CANARY)
    before = dump(term.db)
    for offset, direction in ((-DAY, "behind"), (-3 * MINUTE, "behind"),
                              (dt.timedelta(days=365 * 50), "ahead of")):
        moment = dt.datetime.now(dt.UTC) + offset
        for command in (f"cred reveal tiktok-main --as vperkins --otp "
                        f"{term.code('vperkins', moment)}",
                        "login --as vperkins --otp 000000"):
            refused = term.run(command, at=moment, expect=3)
            assert f"{direction} the OpenBao server's" in refused.stderr, refused.stderr
            assert len(refused.stderr.strip().splitlines()) == 1
            assert CANARY not in refused.stdout
            assert dump(term.db) == before  # not even the wrong codes: nothing was dated
    # Within two minutes the server's time dates the change.
    term.run(f"login --as vperkins --otp {term.code('vperkins', now + 30 * dt.timedelta(0, 1))}",
             at=dt.datetime.now(dt.UTC) + MINUTE)
    event = json.loads(term.run("audit log --limit 1 --format json").stdout)[0]
    stamped = dt.datetime.strptime(event["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs(stamped - dt.datetime.now(dt.UTC)) < MINUTE


def test_with_openbao_an_unreachable_server_is_exit_4(tmp_path: Path,
                                                     openbao: servers.OpenBaoServer) -> None:
    term = clocked_terminal(tmp_path)
    term.run(f"init --org InterAct --slug t{secrets.token_hex(4)} --backend vault "
             f"--vault-url {openbao.url}")
    term.env["VAULT_ADDR"] = "http://127.0.0.1:9"
    with sqlite3.connect(term.db) as conn:
        conn.execute("UPDATE settings SET value = 'http://127.0.0.1:9' "
                     "WHERE key = 'backend_vault_url'")
    result = term.run("person add kim --name Kim --email k@example.org --category volunteer",
                      at=dt.datetime.now(dt.UTC) - DAY, expect=4)
    assert len(result.stderr.strip().splitlines()) == 1


# -- a register put back from a copy ----------------------------------------------------------


def copy_register(db: Path, to: Path) -> None:
    """The register as a backup tool would copy it: the file, its -wal and -shm."""
    to.mkdir()
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            shutil.copy2(f"{db}{suffix}", to / f"{db.name}{suffix}")


def put_back(copy: Path, db: Path) -> None:
    """The copy over the register (and no -wal or -shm left of the newer one)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
        if (copy / f"{db.name}{suffix}").exists():
            shutil.copy2(copy / f"{db.name}{suffix}", f"{db}{suffix}")


def write_old_head_back(db: Path) -> None:
    """What an insider who may write the chain head does next: the copy's own head, written
    back into the store as its newest record (the version still goes up)."""
    register = Register.open(db)
    try:
        store = WITH_MEMORY(BackendConfig.from_settings(register.settings()))
        newest = register.row("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1")
    finally:
        register.close()
    assert newest is not None
    record = chain_head.record_of(store)
    stored = record.read()
    record.write(Head(int(newest["seq"]), str(newest["mac"]), "insider"), stored.version)


def assert_every_change_refused(story: Story, at: dt.datetime | None) -> None:
    """Changes of every kind are refused, and refusing them writes nothing."""
    before = dump(story.term.db)
    for command, who in (("person add zed --name Zed --email z@example.org "
                          "--category volunteer", "spatel"),
                         ("cred reveal tiktok-main", "jdoe"),
                         ("login --as jdoe --otp 000000", None),
                         ("mfa reset jdoe --reason lost", "vperkins")):
        if at is not None:
            at += MINUTE
        if who:
            command += f" --as {who} --otp {story.term.code(who, at or dt.datetime.now(dt.UTC))}"
        result = story.term.run(command, at=at, expect=3)
        refused = result.stdout + result.stderr
        assert RESTORED in refused and CANARY not in refused, refused
        assert len(refused.strip().splitlines()) == 1, refused
    assert dump(story.term.db) == before


def restored_copy_story(story: Story, timed: bool) -> None:
    """A grant, a copy of the register, jdoe offboarded, the copy put back: refused, and
    named by `audit verify`, also after the old head is written back into the store."""
    term = story.term
    story.run("grant add jdoe tiktok-main --role member --reason Posts", by="vperkins")
    copy = term.db.parent.parent / "backup"
    copy_register(term.db, copy)
    story.run("offboard start jdoe --reason Leaving", by="vperkins")
    assert "intact" in term.run("audit verify").stdout
    put_back(copy, term.db)
    assert_every_change_refused(story, story.now if timed else None)
    verified = term.run("audit verify", expect=1)
    assert RESTORED in verified.stdout
    report = json.loads(term.run("audit verify --format json", expect=1).stdout)
    assert report["ok"] is False and RESTORED in report["rolled_back"]
    term.run("grant list")  # reading needs no trust in the head
    write_old_head_back(term.db)
    assert_every_change_refused(story, story.now + 10 * MINUTE if timed else None)
    assert RESTORED in term.run("audit verify", expect=1).stdout


def test_a_register_put_back_after_an_offboarding_is_refused(
        local: tuple[ClockedTerminal, str]) -> None:
    term, init = local
    story = begin(term, init, ten_days_ago())
    restored_copy_story(story, timed=True)


@dataclasses.dataclass
class RealTimeStory(Story):
    """A Story at the real time (OpenBao dates changes itself): codes of steps not used yet,
    waiting for the next step when a person has used both that are accepted now; the person
    of the open session acts through it."""

    used: dict[str, int] = dataclasses.field(default_factory=dict)
    logged_in: str | None = None

    def run(self, command: str, *, by: str | None = None, at: dt.datetime | None = None,
            expect: int | None = 0, stdin: str | None = None) -> str:
        if by and by != self.logged_in:
            command += f" --as {by} --otp {self.real_code(by)}"
        result = self.term.run(command, expect=expect, stdin=stdin)
        return result.stdout + result.stderr

    def real_code(self, person: str) -> str:
        import time

        # The current step, unless it was used or ends within 10 s (a loaded machine may take
        # that long to start the command): then the next one, once it has begun.
        step = int(time.time()) // 30
        if self.used.get(person, -1) >= step or time.time() > step * 30 + 20:
            step = max(step, self.used.get(person, -1)) + 1
            time.sleep(max(0.0, step * 30 - time.time() + 0.3))
        self.used[person] = step
        return self.term.code(person, dt.datetime.fromtimestamp(step * 30, dt.UTC))

    def enrol(self, person: str, *, by: str | None = None) -> None:
        """As Story.enrol; an invited person enrols on their own device."""
        if by:
            self.run(f"mfa enrol {person}", by=by)
        device = person if by else None
        uri = self.term.run(f"mfa enrol {person} --as {person}", device=device).stdout
        self.term.seeds[person] = seed_from_uri(uri.splitlines()[0])
        self.term.run(f"mfa verify {person} --otp {self.real_code(person)}", device=device)


def test_a_register_put_back_after_an_offboarding_is_refused_with_openbao(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    term = clocked_terminal(tmp_path)
    story = RealTimeStory(term, dt.datetime.now(dt.UTC))
    story.run(f"init --org InterAct --slug t{secrets.token_hex(4)} --backend vault "
              f"--vault-url {openbao.url}")
    story.run('person add vperkins --name "Vickie Perkins" --email v@example.org '
              '--category ceo')
    story.run('person add spatel --name "Sonal Patel" --email s@example.org --category trustee')
    story.run("person add jdoe --name Jdoe --email jdoe@example.org --category employee")
    story.run("account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
              "--purpose 'Short videos' --access shared-login --mfa totp")
    story.enrol("vperkins")
    story.run(f"login --as vperkins --otp {story.real_code('vperkins')}")
    story.logged_in = "vperkins"
    story.enrol("spatel", by="vperkins")
    story.enrol("jdoe", by="vperkins")
    story.run("cred set tiktok-main --kind password --stdin", by="vperkins", stdin=CANARY)
    restored_copy_story(story, timed=False)
    # The insider's record is OpenBao's newest: its KV version is above what the copy wrote.
    with sqlite3.connect(term.db) as conn:
        (slug,) = conn.execute("SELECT value FROM settings WHERE key = 'org_slug'").fetchone()
        (recorded,) = conn.execute("SELECT value FROM settings WHERE key = "
                                   "'audit_head_version'").fetchone()
    stored = openbao.api("GET", f"secret/data/accessgov/{slug}/audit/head")
    assert stored["data"]["data"]["actor"] == "insider"
    assert stored["data"]["metadata"]["version"] > int(recorded)
