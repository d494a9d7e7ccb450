"""Operators who cannot act as one another: the OpenBao mode through the real program.

An OpenBao administrator sets the server up and adds the operators; each enrols their own
authenticator with an enrolment code, logs in on their own device (their own session folder),
and every change is signed with their own key. Then the insider's attacks of issue 13, each
with only what an operator holds: their own token, the register file and sqlite3.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from accessgov.audit import chain, state
from accessgov.db import seals
from accessgov.db.register import Register
from tests.support import servers

pytestmark = pytest.mark.integration

SLUG = "interact"
PASSWORDS = {"vperkins": "vperkins-long-passphrase-1", "spatel": "spatel-long-passphrase-2",
             "jdoe": "jdoe-long-passphrase-3"}


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.OpenBaoServer]:
    """A server of this module's own: the set-up changes the whole server (its login mount)."""
    server = servers.start_or_skip(servers.start_openbao, tmp_path_factory.mktemp("bao-mode"))
    try:
        yield server
    finally:
        server.stop()


class Office:
    """Three people on three machines sharing one register file, and their administrator."""

    def __init__(self, folder: Path, bao: servers.OpenBaoServer) -> None:
        self.folder = folder
        self.bao = bao
        self.db = folder / "register" / "register.db"
        self.keys: dict[str, str] = {}
        self.used: set[tuple[str, int]] = set()

    def env(self, who: str | None) -> dict[str, str]:
        """`who`'s own machine (home and session folder); None: the administrator's, with
        the administrator's token."""
        home = self.folder / f"machine-{who or 'admin'}"
        (home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
        base = {key: value for key, value in os.environ.items()
                if not key.startswith(("VAULT_", "BAO_"))}
        env = base | {"HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run"),
                      "XDG_STATE_HOME": str(home / "state"), "VAULT_ADDR": self.bao.url}
        if who is None:
            env["VAULT_TOKEN"] = self.bao.root_token
        return env

    def run(self, who: str | None, command: list[str], *, stdin: str = "",
            expect: int = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "accessgov", "--db", str(self.db), *command],
            env=self.env(who), input=stdin, capture_output=True, text=True, timeout=120,
            check=False)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == expect, (
            f"{who}: accessgov {' '.join(command)} exited {result.returncode}, expected "
            f"{expect}\nstdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def code(self, who: str) -> str:
        """A code OpenBao has not seen (it remembers used codes for a while)."""
        while True:
            step = int(time.time()) // 30
            for candidate in (step, step + 1, step - 1):
                if (who, candidate) not in self.used:
                    self.used.add((who, candidate))
                    return str(pyotp.TOTP(self.keys[who]).at(candidate * 30))
            time.sleep(1)

    def add_and_enrol(self, who: str) -> None:
        """The administrator adds `who`; `who` enrols on their own machine."""
        added = self.run(None, ["store", "add-operator", who, "--slug", SLUG,
                                "--password-stdin"], stdin=PASSWORDS[who] + "\n")
        enrolment_code = added.stdout.strip().splitlines()[0]
        enrolled = self.run(who, ["store", "enrol", who, "--slug", SLUG],
                            stdin=enrolment_code + "\n")
        url = enrolled.stdout.strip().splitlines()[0]
        self.keys[who] = pyotp.parse_uri(url).secret

    def login(self, who: str) -> None:
        self.run(who, ["login", "--as", who, "--password-stdin", "--otp", self.code(who)],
                 stdin=PASSWORDS[who] + "\n")


@pytest.fixture(scope="module")
def office(bao: servers.OpenBaoServer, tmp_path_factory: pytest.TempPathFactory) -> Office:
    """The README's OpenBao quick start, typed by three people on three machines."""
    office = Office(tmp_path_factory.mktemp("office"), bao)
    office.run(None, ["store", "setup", "--slug", SLUG])
    for who in ("vperkins", "spatel", "jdoe"):
        office.add_and_enrol(who)
    office.run("vperkins", ["--as", "vperkins", "init", "--org", "InterAct", "--slug", SLUG,
                            "--backend", "openbao", "--vault-url", bao.url],
               stdin=f"{PASSWORDS['vperkins']}\n{office.code('vperkins')}\n")
    ceo = ["person", "add", "vperkins", "--name", "Vickie Perkins", "--email",
           "v@example.org", "--category", "ceo"]
    office.run("vperkins", ceo)
    office.run("vperkins", ["person", "add", "spatel", "--name", "Sonal Patel", "--email",
                            "s@example.org", "--category", "trustee"])
    office.run("vperkins", ["person", "add", "jdoe", "--name", "Jo Doe", "--email",
                            "j@example.org", "--category", "employee"])
    office.run("vperkins", ["mfa", "enrol", "vperkins", "--as", "vperkins"])  # ends set-up
    office.run("vperkins", ["mfa", "enrol", "spatel"])  # an invitation
    office.login("spatel")
    office.run("spatel", ["mfa", "enrol", "spatel", "--as", "spatel"])
    office.run("spatel", ["account", "add", "instagram-main", "--platform", "instagram",
                          "--handle", "@interact", "--owner", "vperkins", "--purpose", "News",
                          "--access", "delegated", "--mfa", "totp"])
    office.run("vperkins", ["grant", "add", "jdoe", "instagram-main", "--role", "editor",
                            "--reason", "Posts events"])
    return office


def events(office: Office) -> list[dict[str, object]]:
    with sqlite3.connect(office.db) as conn:
        conn.row_factory = sqlite3.Row
        found = [dict(row) for row in conn.execute("SELECT * FROM audit ORDER BY seq")]
    conn.close()
    return found


def test_every_change_is_signed_by_the_operator_who_made_it(office: Office) -> None:
    log = events(office)
    signed = [event for event in log if event["signature"]]
    assert signed[-1]["seq"] == log[-1]["seq"]  # the head is signed
    assert {event["signer"] for event in signed} == {"vperkins", "spatel"}
    for event in log:  # nobody acts in a change someone else signed
        if event["signature"]:
            assert event["actor"] in (event["signer"], "accessgov")
    verified = json.loads(office.run("spatel", ["audit", "verify", "--format", "json"]).stdout)
    assert verified["ok"] is True and verified["events_checked"] == len(log)
    grants = json.loads(office.run("jdoe", ["grant", "list", "--format", "json"]).stdout)
    assert [(g["decided_by"], g["authority"]) for g in grants] == [("vperkins", "ceo")]


def test_there_is_no_seed_or_audit_key_to_read(office: Office) -> None:
    for path in ("mfa/vperkins", "audit/key"):
        found = office.bao.bao("kv", "get", "-mount=secret", f"accessgov/{SLUG}/{path}")
        assert found.returncode != 0, f"{path} exists"
    with sqlite3.connect(office.db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM settings WHERE key = 'audit_key_version'"
                            ).fetchone()[0] == 0
    conn.close()


def _operator_token(office: Office, who: str) -> str:
    run = office.folder / f"machine-{who}" / "run" / "accessgov"
    (ticket,) = run.glob("session-*.json")
    return str(json.loads(ticket.read_text())["token"])


def test_an_operator_cannot_name_someone_else(office: Office) -> None:
    refused = office.run("spatel", ["--as", "vperkins", "grant", "add", "spatel",
                                    "instagram-main", "--role", "admin", "--reason", "me"],
                         expect=3)
    assert "you are logged in to OpenBao as spatel, so you cannot act as vperkins" in \
        refused.stderr


def test_an_operator_cannot_sign_with_someone_elses_key(office: Office) -> None:
    token = _operator_token(office, "spatel")
    signed = office.bao.bao("write", "transit/sign/accessgov-vperkins",
                            f"input={base64.b64encode(b'x').decode()}", token=token)
    assert signed.returncode != 0 and "permission denied" in signed.stderr


def _forge(office: Office, actor: str, approver: str, *, signer_token: str,
           signer: str) -> None:
    """jdoe's grant made admin with sqlite3, its approval credited to `approver`, in an event
    naming `actor` that lists the rows with their new seals (as accessgov would), signed with
    `signer`'s own key (their token): everything an insider holds."""
    sealer = seals.ListedRowSeals()
    with sqlite3.connect(office.db) as conn:
        conn.row_factory = sqlite3.Row
        seq, prev = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1"
                                 ).fetchone()
        seq += 1
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        conn.execute("UPDATE grants SET role = 'admin', sealed_seq = ? WHERE id = 'G-0001'",
                     (seq,))
        conn.execute("UPDATE approvals SET approver = ?, sealed_seq = ? "
                     "WHERE grant_id = 'G-0001'", (approver, seq))
        listed = []
        for table, where, key in (("grants", "id = 'G-0001'", "G-0001"),
                                  ("approvals", "grant_id = 'G-0001'", None)):
            row = dict(conn.execute(f"SELECT * FROM {table} WHERE {where}").fetchone())
            values = [value for name, value in row.items() if name != "seal"]
            seal = sealer.of(table, values)
            conn.execute(f"UPDATE {table} SET seal = ? WHERE {where}", (seal,))
            listed.append(f"+{table}\t{key or row['id']}\t{seal}")
        rows = "\n".join(listed)
        details = chain.canonical_details({"authority": "ceo"})
        mac = hashlib.sha256(chain._message(seq, at, actor, "grant.approve", "G-0001", details,
                                            prev, rows)).hexdigest()
        signed = office.bao.bao("write", "-field=signature", f"transit/sign/accessgov-{signer}",
                                f"input={base64.b64encode(mac.encode()).decode()}",
                                token=signer_token)
        assert signed.returncode == 0, signed.stderr
        conn.execute(
            "INSERT INTO audit (seq, at, actor, action, subject, details, prev, mac, rows, "
            "signer, signature) VALUES (?, ?, ?, 'grant.approve', 'G-0001', ?, ?, ?, ?, ?, ?)",
            (seq, at, actor, details, prev, mac, rows, signer, signed.stdout.strip()))
    conn.close()


@pytest.mark.parametrize(("actor", "named"), [
    ("vperkins", "its change names vperkins as acting, but was signed by jdoe"),
    ("jdoe", "names vperkins as deciding, but the change that wrote it was signed by jdoe")])
def test_a_grant_forged_with_sqlite3_and_ones_own_signature_is_named_and_refused(
        office: Office, tmp_path: Path, actor: str, named: str) -> None:
    """jdoe makes her own grant admin with sqlite3, credits the CEO with approving it, and
    signs the change with her own key: as the CEO (whose key she cannot use), or as herself
    (whose signature then holds, but whose change records a decision in the CEO's name)."""
    office.login("jdoe")
    saved = tmp_path / "register.db"
    shutil.copy(office.db, saved)
    try:
        _forge(office, actor, "vperkins", signer_token=_operator_token(office, "jdoe"),
               signer="jdoe")
        report = json.loads(office.run("spatel", ["audit", "verify", "--format", "json"],
                                       expect=1).stdout)
        assert named in (report["problem"] or json.dumps(report["state_findings"]))
        # A long log is verified in two processes, the decisions apart: the same findings.
        register = Register.open(str(office.db))
        try:
            whole = state.check_snapshot(register, seals.ListedRowSeals())
            apart = state.check_snapshot(register, seals.ListedRowSeals(), decisions=False)
            assert set(whole.findings) == {*apart.findings,
                                           *state.decisions_in_another_name(register)}
            assert whole.findings or actor == "vperkins"
        finally:
            register.close()
        refused = office.run("vperkins", ["grant", "revoke", "G-0001", "--reason", "x"],
                             expect=3)
        assert "changed outside accessgov" in refused.stderr or "tampered" in refused.stderr
    finally:  # the Board puts the register from before the forgery back, in place
        shutil.copy(saved, office.db)
        for suffix in ("-wal", "-shm"):
            Path(f"{office.db}{suffix}").unlink(missing_ok=True)
        office.login("spatel")
        office.run("spatel", ["restore", "--board-minute", "BM forged grant"])


def test_a_repeat_verify_relies_on_the_last_only_while_the_signatures_are_the_same(
        office: Office) -> None:
    """spatel's verify keeps what it proved in her own state folder (0600), so her next one
    checks only newer signatures. jdoe then swaps the signature of one of the CEO's earlier
    changes for her own over the same event (the event's seal does not cover it): spatel's
    next verify, relying on nothing it cannot see unchanged, names it."""
    office.login("spatel")
    office.run("spatel", ["audit", "verify"])
    records = list((office.folder / "machine-spatel" / "state").rglob("verified-*.json"))
    assert len(records) == 1 and stat.S_IMODE(records[0].stat().st_mode) == 0o600
    office.run("spatel", ["audit", "verify"])  # from the record: still intact
    office.login("jdoe")
    with sqlite3.connect(office.db) as conn:
        seq, mac, signature = conn.execute(
            "SELECT seq, mac, signature FROM audit WHERE signer = 'vperkins' "
            "ORDER BY seq DESC LIMIT 1").fetchone()
    conn.close()
    own = office.bao.bao("write", "-field=signature", "transit/sign/accessgov-jdoe",
                         f"input={base64.b64encode(mac.encode()).decode()}",
                         token=_operator_token(office, "jdoe"))
    assert own.returncode == 0, own.stderr
    swap = "UPDATE audit SET signer = ?, signature = ? WHERE seq = ?"
    try:
        with sqlite3.connect(office.db) as conn:
            conn.execute(swap, ("jdoe", own.stdout.strip(), seq))
        conn.close()
        report = json.loads(office.run("spatel", ["audit", "verify", "--format", "json"],
                                       expect=1).stdout)
        assert report["bad_seq"] == seq
        assert "names vperkins as acting, but was signed by jdoe" in report["problem"]
    finally:
        with sqlite3.connect(office.db) as conn:
            conn.execute(swap, ("vperkins", signature, seq))
        conn.close()
    office.run("spatel", ["audit", "verify"])


def test_a_revoked_token_is_refused(office: Office) -> None:
    office.login("jdoe")
    token = _operator_token(office, "jdoe")
    office.run("jdoe", ["logout"])
    env_token = office.env("jdoe") | {"VAULT_TOKEN": token}
    result = subprocess.run(
        [sys.executable, "-m", "accessgov", "--db", str(office.db), "grant", "request", "jdoe",
         "instagram-main", "--role", "admin", "--reason", "more"],
        env=env_token, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 3, result.stderr
    assert "no longer honours your login" in result.stderr


def test_an_imported_approval_is_signed_by_the_importer_and_confirmed_by_the_ceo(
        office: Office) -> None:
    """Issue 15, item 1, on real OpenBao: a trustee imports a grant 'approved by the CEO'.
    The approval is hers, signed with her own key; the CEO's name is a claim that `check`
    lists until the CEO confirms it, signed with the CEO's key."""
    office.run("spatel", ["account", "add", "x-main", "--platform", "x", "--handle", "@i",
                          "--owner", "vperkins", "--purpose", "News"])
    sheet = office.folder / "grants.csv"
    sheet.write_text("person,account,role,reason,decided_by,authority,decided_at\n"
                     "jdoe,x-main,editor,News,vperkins,ceo,2025-03-01\n", encoding="utf-8")
    office.run("spatel", ["import", str(sheet), "--kind", "grants"])
    grants = json.loads(office.run("jdoe", ["grant", "list", "--account", "x-main",
                                            "--format", "json"]).stdout)
    assert [(g["decided_by"], g["authority"], g["approval_note"]) for g in grants] == [
        ("spatel", "trustee",
         "recorded as approved by vperkins on 2025-03-01 (imported by spatel)")]
    imported = [e for e in events(office) if e["action"] == "register.import"][-1]
    assert (imported["actor"], imported["signer"]) == ("spatel", "spatel")  # the change's
    # last event carries its signature
    found = json.loads(office.run("spatel", ["check", "--no-store", "--format", "json"],
                                  expect=1).stdout)["findings"]
    assert [f["subject"] for f in found if f["rule"] == "ACC-007"] == ["vperkins"]
    office.run("spatel", ["grant", "confirm", grants[0]["id"]], expect=3)  # not hers
    office.run("vperkins", ["login", "--as", "vperkins", "--password-stdin", "--otp",
                            office.code("vperkins")], stdin=PASSWORDS["vperkins"] + "\n")
    office.run("vperkins", ["grant", "confirm", "--all"])
    confirmed = [e for e in events(office) if e["action"] == "grant.confirm"][-1]
    assert (confirmed["actor"], confirmed["signer"]) == ("vperkins", "vperkins")
    verified = json.loads(office.run("spatel", ["audit", "verify", "--format", "json"]).stdout)
    assert verified["ok"] is True


def test_a_contributor_takes_codes_from_the_totp_engine_and_never_reads_the_seed(
        office: Office) -> None:
    """Issue 17, item 1, where each operator is their own identity: `store setup` enabled
    the TOTP engine; the seed goes in; jdoe, who holds a grant, takes codes; her own token
    can read codes but not the key, and nobody's can read the seed from KV."""
    seed = pyotp.random_base32()
    office.run("vperkins", ["cred", "set", "instagram-main", "--kind", "totp-seed", "--stdin"],
               stdin=f"otpauth://totp/Instagram:interact?secret={seed}&issuer=Instagram\n")
    office.run("vperkins", ["mfa", "enrol", "jdoe"])  # an invitation
    office.login("jdoe")
    office.run("jdoe", ["mfa", "enrol", "jdoe", "--as", "jdoe"])
    started = time.time()
    code = office.run("jdoe", ["otp", "instagram-main"]).stdout.strip()
    assert code in {pyotp.TOTP(seed).at(started), pyotp.TOTP(seed).at(time.time())}
    token = _operator_token(office, "jdoe")
    name = f"accessgov-{SLUG}-instagram-main-v1"
    for path, allowed in ((f"totp/code/{name}", True), (f"totp/keys/{name}", False)):
        status, _ = _as(office, token, "GET", path)
        assert (status == 200) is allowed, path
    status, body = _as(office, token, "GET",
                       f"secret/data/accessgov/{SLUG}/instagram-main/totp-seed")
    assert status != 200 or seed not in json.dumps(body)


def _as(office: Office, token: str, method: str, path: str) -> tuple[int, object]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{office.bao.url}/v1/{path}", method=method,
                                     headers={"X-Vault-Token": token})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
