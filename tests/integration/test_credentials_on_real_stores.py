"""Credentials through the real program, against real OpenBao and a real Secret Service keyring.

Interop: what `cred set` writes, the real `bao` CLI and `secret-tool` read at the documented
paths, and what `bao kv put` writes, `cred adopt` records. Atomicity: OpenBao fails at each
request a command makes (through tests/support/flaky_proxy.py) and, in one test, the real
OpenBao process is killed in the middle of a command and started again.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.support import servers
from tests.support.flaky_proxy import FaultKind, FlakyProxy
from tests.support.shell import dump
from tests.support.terminal import Terminal, clear_of_a_step_boundary, terminal

pytestmark = pytest.mark.integration

ADOPT_HINT = "cred adopt"


# -- helpers ----------------------------------------------------------------------------------

def feed(term: Terminal, command: str, stdin: str | None = None, *,
         expect: int | None = 0) -> subprocess.CompletedProcess[str]:
    """`accessgov --db DB <command>` with `stdin` on its standard input (never in argv)."""
    result = subprocess.run(
        [sys.executable, "-m", "accessgov", "--db", str(term.db), *shlex.split(command)],
        input=stdin or "", env=term.env, capture_output=True, text=True, timeout=120,
        check=False,
    )
    term.transcript.append(result)
    assert "Traceback" not in result.stderr, result.stderr
    if expect is not None:
        assert result.returncode == expect, (
            f"accessgov {command} exited {result.returncode}, expected {expect}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single plain error line a failed command printed."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def set_up(term: Terminal, init: str) -> str:
    """init, the CEO enrolled and logged in, a member of staff, a shared TikTok; the slug."""
    slug = f"t{secrets.token_hex(4)}"
    term.run(f"init --org InterAct --slug {slug} {init}")
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    # During set-up the CEO's accounts are entered with her as owner; afterwards nobody
    # makes themselves an account's owner.
    term.run("account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
             "--purpose 'Short videos' --access shared-login --mfa totp")
    term.run("account add insta --platform instagram --handle @i --owner vperkins --purpose p")
    clear_of_a_step_boundary()
    term.enrol("vperkins")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}")
    term.run('person add jdoe --name "Jo Doe" --email j@example.org --category employee')
    return slug


def kv_path(slug: str, account: str, kind: str) -> str:
    """The path the README documents, as `bao kv` spells it with -mount=secret."""
    return f"accessgov/{slug}/{account}/{kind}"


def versions_in_openbao(server_api: Any, slug: str, account: str, kind: str) -> dict[int, bool]:
    """{version: live?} straight from OpenBao's metadata (as root, never through a proxy)."""
    try:
        body = server_api("GET", f"secret/metadata/{kv_path(slug, account, kind)}")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return {}
        raise
    return {int(number): not info["destroyed"] and not info["deletion_time"]
            for number, info in body["data"]["versions"].items()}


def register_versions(db: Path, account: str, kind: str) -> tuple[int | None, set[int]]:
    """(the version the register calls current, every version it has a record of)."""
    with sqlite3.connect(db) as conn:
        current = conn.execute("SELECT version FROM credentials WHERE account = ? AND kind = ?",
                               (account, kind)).fetchone()
        history = {row[0] for row in conn.execute(
            "SELECT version FROM credential_versions WHERE account = ? AND kind = ?",
            (account, kind))}
    return (current[0] if current else None), history


def credentials_json(term: Terminal) -> dict[tuple[str, str], dict[str, Any]]:
    rows = json.loads(term.run("cred list --format json").stdout)
    return {(row["account"], row["kind"]): row for row in rows}


# -- 1. interop with the bao CLI -------------------------------------------------------------

def test_bao_reads_what_accessgov_wrote_with_the_grants_in_its_metadata(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    term = terminal(tmp_path)
    slug = set_up(term, f"--backend vault --vault-url {openbao.url}")
    term.run("grant add jdoe tiktok-main --role member --reason 'Posts clips'")
    secret = f"Pw-{secrets.token_hex(8)} with spaces & ünïcode"
    feed(term, "cred set tiktok-main --kind password --stdin", secret + "\n")
    path = kv_path(slug, "tiktok-main", "password")

    got = openbao.bao("kv", "get", "-mount=secret", "-field=value", path)
    assert got.returncode == 0, got.stderr
    assert got.stdout == secret

    meta = openbao.bao("kv", "metadata", "get", "-mount=secret", "-format=json", path)
    assert meta.returncode == 0, meta.stderr
    custom = json.loads(meta.stdout)["data"]["custom_metadata"]
    assert custom["accessgov_grants"] == "G-0001:vperkins"
    assert custom["accessgov_written_by"] == "vperkins"
    assert custom["accessgov_account"] == "tiktok-main"
    assert custom["accessgov_kind"] == "password"
    assert secret not in meta.stdout

    # Rotation is a new KV version; bao still has the old one under -version=1.
    new = f"Rotated-{secrets.token_hex(8)}"
    feed(term, "cred rotate tiktok-main --stdin", new + "\n")
    latest = json.loads(openbao.bao("kv", "get", "-mount=secret", "-format=json", path).stdout)
    assert latest["data"]["metadata"]["version"] == 2
    assert latest["data"]["data"]["value"] == new
    old = openbao.bao("kv", "get", "-mount=secret", "-version=1", "-field=value", path)
    assert old.stdout == secret
    assert credentials_json(term)[("tiktok-main", "password")]["version"] == 2


def test_a_secret_put_by_bao_is_unknown_until_adopted(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    term = terminal(tmp_path)
    slug = set_up(term, f"--backend vault --vault-url {openbao.url}")
    token = f"api-{secrets.token_hex(12)}"
    path = kv_path(slug, "tiktok-main", "api-token")
    put = openbao.bao("kv", "put", "-mount=secret", path, f"value={token}")
    assert put.returncode == 0, put.stderr

    assert ("tiktok-main", "api-token") not in credentials_json(term)
    unknown = term.run("cred reveal tiktok-main --kind api-token", expect=2)
    assert "has no api-token in the register" in one_line(unknown)

    adopted = term.run("cred adopt tiktok-main --kind api-token")
    assert "Recorded version 1" in adopted.stdout
    row = credentials_json(term)[("tiktok-main", "api-token")]
    assert (row["version"], row["backend"]) == (1, "vault")
    assert row["reference"] == f"vault kv secret/{path}"
    assert term.run("cred reveal tiktok-main --kind api-token").stdout == token
    assert token not in term.run("audit log --format json").stdout
    meta = openbao.bao("kv", "metadata", "get", "-mount=secret", "-format=json", path)
    custom = json.loads(meta.stdout)["data"]["custom_metadata"]
    assert (custom["accessgov_written_by"], custom["accessgov_authority"],
            custom["accessgov_how"]) == ("vperkins", "ceo", "adopt")


def test_a_bao_put_behind_accessgovs_back_blocks_rotation_until_adopted(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    term = terminal(tmp_path)
    slug = set_up(term, f"--backend vault --vault-url {openbao.url}")
    feed(term, "cred set tiktok-main --kind password --stdin", "First-1\n")
    path = kv_path(slug, "tiktok-main", "password")
    assert openbao.bao("kv", "put", "-mount=secret", path, "value=Changed-by-hand").returncode == 0

    before = dump(term.db)
    refused = feed(term, "cred rotate tiktok-main --stdin", "Mine-2\n", expect=2)
    line = one_line(refused)
    assert "changed outside accessgov" in line and ADOPT_HINT in line
    assert "Changed-by-hand" not in line and "Mine-2" not in refused.stderr
    assert dump(term.db) == before
    assert versions_in_openbao(openbao.api, slug, "tiktok-main", "password") == {1: True, 2: True}

    term.run("cred adopt tiktok-main --kind password")
    assert term.run("cred reveal tiktok-main").stdout == "Changed-by-hand"
    feed(term, "cred rotate tiktok-main --stdin", "Mine-2\n")
    got = openbao.bao("kv", "get", "-mount=secret", "-field=value", path)
    assert got.stdout == "Mine-2"


# -- 2. interop with secret-tool -------------------------------------------------------------

def secret_tool_lookup(term: Terminal, slug: str, username: str) -> str:
    found = subprocess.run(
        ["secret-tool", "lookup", "service", f"accessgov/{slug}", "username", username],
        env=term.env, capture_output=True, text=True, timeout=30, check=False)
    assert found.returncode == 0, found.stderr
    return found.stdout


def test_secret_tool_finds_what_accessgov_stored_in_the_keyring(
        tmp_path: Path, secret_service: servers.SecretServiceSession) -> None:
    term = terminal(tmp_path)
    slug = set_up(term, "--backend keyring")
    first = f"Kr-{secrets.token_hex(8)}"
    feed(term, "cred set tiktok-main --kind password --stdin", first + "\n")
    assert secret_tool_lookup(term, slug, "tiktok-main/password") == first

    second = f"Kr-rotated-{secrets.token_hex(8)}"
    feed(term, "cred rotate tiktok-main --stdin", second + "\n")
    assert secret_tool_lookup(term, slug, "tiktok-main/password") == second
    assert credentials_json(term)[("tiktok-main", "password")]["version"] == 2
    assert term.run("cred reveal tiktok-main").stdout == second


# -- 5. otp gives pyotp's code, on both stores -----------------------------------------------

@pytest.fixture(params=["vault", "keyring"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Terminal, str]:
    """A set-up register on OpenBao or on the Secret Service keyring."""
    if request.param == "vault":
        server = request.getfixturevalue("openbao")
        init = f"--backend vault --vault-url {server.url}"
    else:
        request.getfixturevalue("secret_service")
        init = "--backend keyring"
    term = terminal(tmp_path)
    return term, set_up(term, init)


def test_otp_prints_pyotps_code_for_the_stored_seed(any_store: tuple[Terminal, str]) -> None:
    term, _ = any_store
    seed = pyotp.random_base32()
    feed(term, "cred set tiktok-main --kind totp-seed --stdin",
         f"otpauth://totp/TikTok:interact?secret={seed}&issuer=TikTok\n")
    started = time.time()
    code = term.run("otp tiktok-main").stdout.strip()
    finished = time.time()
    totp = pyotp.TOTP(seed)
    assert code in {totp.at(started), totp.at(finished)}  # the step may tick over meanwhile
    exposed = credentials_json(term)[("tiktok-main", "totp-seed")]["exposed_to_current"]
    assert exposed == ["vperkins"]


# -- 3. atomicity: OpenBao failing at each request of a command ------------------------------

def test_the_flaky_proxy_counts_keep_alive_requests_and_fails_as_documented(
        openbao: servers.OpenBaoServer) -> None:
    """The tool the atomicity tests rely on, checked against the real server first."""
    import http.client

    headers = {"X-Vault-Token": openbao.root_token}
    path = f"/v1/secret/data/proxy-check-{secrets.token_hex(4)}"
    with FlakyProxy(openbao.url) as flaky:
        one = http.client.HTTPConnection("127.0.0.1", flaky.port, timeout=5)
        for _ in range(3):  # three requests on one keep-alive connection count as three
            one.request("GET", "/v1/sys/health")
            assert one.getresponse().read() and one.sock is not None
        one.request("POST", path, body=iter([b'{"data": ', b'{"value": "chunked"}}']),
                    headers=headers | {"Transfer-Encoding": "chunked"}, encode_chunked=True)
        answer = one.getresponse()
        assert answer.status == 200 and answer.read()
        assert flaky.log == ["GET /v1/sys/health"] * 3 + [f"POST {path}"]

        flaky.fail_at(1, "drop-answer")  # carried out, answer lost
        one.request("GET", "/v1/sys/health")
        one.getresponse().read()
        one.request("POST", path, body=b'{"data": {"value": "two"}}', headers=headers)
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            one.getresponse()
        one.close()
        assert openbao.api("GET", path.removeprefix("/v1/"))["data"]["data"]["value"] == "two"

        flaky.fail_at(0, "die")
        two = http.client.HTTPConnection("127.0.0.1", flaky.port, timeout=5)
        two.request("GET", "/v1/sys/health")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            two.getresponse()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", flaky.port), timeout=5)
        flaky.revive()
        three = http.client.HTTPConnection("127.0.0.1", flaky.port, timeout=5)
        three.request("GET", "/v1/sys/health")
        assert three.getresponse().status == 200
        three.close()


@pytest.fixture
def proxy(openbao: servers.OpenBaoServer) -> Iterator[FlakyProxy]:
    with FlakyProxy(openbao.url) as flaky:
        yield flaky


def orphans(api: Any, db: Path, slug: str, account: str, kind: str) -> set[int]:
    """Live versions in OpenBao that the register has no record of."""
    live = {v for v, alive in versions_in_openbao(api, slug, account, kind).items() if alive}
    return live - register_versions(db, account, kind)[1]


def assert_consistent(api: Any, term: Terminal, slug: str, account: str, kind: str) -> None:
    """The register's current version is live in OpenBao, and nothing live is unrecorded."""
    current, _ = register_versions(term.db, account, kind)
    versions = versions_in_openbao(api, slug, account, kind)
    assert current is not None and versions.get(current) is True, (current, versions)
    assert not orphans(api, term.db, slug, account, kind)


def orphan_allowed(fault: FaultKind, failed: int, write: int) -> bool:
    """When a live, unrecorded version is unavoidable: OpenBao did the write, then either the
    client never heard of it, or the undo could not reach OpenBao any more."""
    return ((fault == "die" and failed > write)
            or (fault == "die-after-commit" and failed >= write)
            or (fault == "drop-answer" and failed == write))


def run_with_fault(term: Terminal, api: Any, proxy: FlakyProxy, slug: str, command: str,
                   secret: str | None, account: str, fault: FaultKind, failed: int,
                   write: int) -> str:
    """Run `command` with OpenBao failing at request `failed`; check; recover; the outcome."""
    before = dump(term.db)
    live_before = versions_in_openbao(api, slug, account, "password")
    proxy.fail_at(failed, fault)
    result = feed(term, command, secret, expect=None)
    proxy.revive()
    left_over = orphans(api, term.db, slug, account, "password")
    if result.returncode == 0:
        assert_consistent(api, term, slug, account, "password")
        if secret:
            assert current_value(api, term, slug, account) == secret.strip()
        return "0"
    assert result.returncode == 4, result.stderr
    assert "Vault" in one_line(result)
    assert dump(term.db) == before, "a failed command changed the register"
    if fault in ("die", "drop") and failed <= write:  # the write never reached OpenBao
        assert versions_in_openbao(api, slug, account, "password") == live_before
    if left_over:
        assert orphan_allowed(fault, failed, write), (fault, failed, left_over)
    # Bring OpenBao back: the next try refuses (and points to adopt) or simply works.
    retry = f"retry-{secrets.token_hex(4)}\n" if secret else None
    again = feed(term, command, retry, expect=None)
    if left_over:
        assert again.returncode == 2 and ADOPT_HINT in one_line(again), again.stderr
        assert dump(term.db) == before
        term.run(f"cred adopt {account} --kind password")
        outcome, expected = "4 orphan->adopt", secret  # what the failed command had written
    else:
        assert again.returncode == 0, again.stderr
        outcome, expected = "4 clean", retry
    assert_consistent(api, term, slug, account, "password")
    if expected:
        assert current_value(api, term, slug, account) == expected.strip()
    return outcome


def current_value(api: Any, term: Terminal, slug: str, account: str) -> str:
    """The password at the version the register calls current, read from OpenBao as root."""
    version, _ = register_versions(term.db, account, "password")
    body = api("GET", f"secret/data/{kv_path(slug, account, 'password')}?version={version}")
    return str(body["data"]["data"]["value"])


def healthy_requests(term: Terminal, proxy: FlakyProxy, command: str,
                     stdin: str | None) -> list[str]:
    """The requests `command` makes when OpenBao is well."""
    proxy.revive()
    feed(term, command, stdin)
    return list(proxy.log)


def write_index(log: list[str], account: str) -> int:
    (index,) = [i for i, line in enumerate(log)
                if line.startswith("POST ") and "/data/accessgov/" in line
                and line.endswith(f"/{account}/password")]
    return index


@pytest.mark.parametrize("fault", ["die", "die-after-commit", "drop", "drop-answer"])
def test_openbao_failing_at_each_request_of_set_and_rotate(
        tmp_path: Path, openbao: servers.OpenBaoServer, proxy: FlakyProxy,
        fault: FaultKind) -> None:
    term = terminal(tmp_path, VAULT_ADDR=proxy.url)
    slug = set_up(term, f"--backend vault --vault-url {proxy.url}")
    api = openbao.api
    outcomes: dict[str, list[str]] = {}

    # cred set: a fresh account for every failure point.
    term.run("account add probe --platform x --handle @p --owner jdoe --purpose probe")
    set_log = healthy_requests(term, proxy, "cred set probe --kind password --stdin", "p\n")
    write = write_index(set_log, "probe")
    for failed in range(len(set_log) + 1):
        account = f"set-{failed}"
        term.run(f"account add {account} --platform x --handle @{account} --owner jdoe "
                 "--purpose test")
        outcomes.setdefault("set", []).append(run_with_fault(
            term, api, proxy, slug, f"cred set {account} --kind password --stdin",
            f"Set-{failed}-{secrets.token_hex(4)}\n", account, fault, failed, write))

    # cred rotate (stdin, and --generate --show, which prints what it generated).
    for command, stdin, requests in (("cred rotate probe --stdin", "r\n", 7),
                                     ("cred rotate probe --generate --show", None, 7)):
        log = healthy_requests(term, proxy, command, stdin)
        assert len(log) == requests, log
        write = write_index(log, "probe")
        for failed in range(len(log) + 1):
            outcomes.setdefault(command, []).append(run_with_fault(
                term, api, proxy, slug, command,
                f"Rot-{failed}-{secrets.token_hex(4)}\n" if stdin else None,
                "probe", fault, failed, write))

    # audit key, the server's time, the chain head, metadata, data write, metadata write, and
    # after the commit the chain head moved on
    assert len(set_log) == 7
    assert outcomes["set"][0].startswith("4")  # no audit key: nothing can be recorded
    assert all(outcome[-1] == "0" for outcome in outcomes.values())  # armed too late: no fault
    print(f"\n{fault}: {json.dumps(outcomes)}\nset makes: {set_log}")


def test_reveal_makes_five_requests_and_fails_cleanly(
        tmp_path: Path, openbao: servers.OpenBaoServer, proxy: FlakyProxy) -> None:
    term = terminal(tmp_path, VAULT_ADDR=proxy.url)
    set_up(term, f"--backend vault --vault-url {proxy.url}")
    feed(term, "cred set tiktok-main --kind password --stdin", "Pw-reveal\n")
    log = healthy_requests(term, proxy, "cred reveal tiktok-main", None)
    # The audit key, the server's time, the chain head, the secret; after the commit, the
    # chain head moved on.
    assert [line.split("?")[0].rsplit("/", 2)[-2:] for line in log] == [
        ["audit", "key"], ["sys", "health"], ["audit", "head"], ["tiktok-main", "password"],
        ["audit", "head"]]
    for failed in range(len(log) - 1):
        before = dump(term.db)
        proxy.fail_at(failed, "die")
        result = feed(term, "cred reveal tiktok-main", expect=4)
        proxy.revive()
        assert result.stdout == "" and "Pw-reveal" not in result.stderr
        one_line(result)
        assert dump(term.db) == before  # no exposure recorded for a secret never shown
    # OpenBao dies after the exposure was committed: the secret is shown, the lost head is
    # a warning, and the next change records it.
    proxy.fail_at(len(log) - 1, "die")
    shown = feed(term, "cred reveal tiktok-main", expect=0)
    proxy.revive()
    assert shown.stdout == "Pw-reveal"
    assert "Warning: the change is saved, but the audit chain's head could not be recorded" \
        in shown.stderr
    feed(term, "cred reveal tiktok-main", expect=0)
    assert "intact" in term.run("audit verify").stdout


# -- 3b. the real OpenBao process killed in the middle of a command --------------------------

class DurableOpenBao:
    """An OpenBao with raft storage on disk, so it can be SIGKILLed and started again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port, cluster = servers.free_port(), servers.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (workdir / "raft").mkdir(parents=True)
        self.config = workdir / "openbao.hcl"
        self.config.write_text(
            f'storage "raft" {{\n  path = "{workdir / "raft"}"\n  node_id = "n1"\n'
            f'  performance_multiplier = 1\n}}\n'
            f'listener "tcp" {{\n  address = "127.0.0.1:{self.port}"\n'
            f'  cluster_address = "127.0.0.1:{cluster}"\n  tls_disable = true\n}}\n'
            f'api_addr = "{self.url}"\ncluster_addr = "http://127.0.0.1:{cluster}"\n',
            encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""
        self._unseal_key = ""

    def start(self) -> None:
        bao = shutil.which("bao")
        if bao is None:
            pytest.skip("OpenBao (bao) is not installed")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        with (self.workdir / "openbao.log").open("ab") as log:
            self.process = subprocess.Popen(
                [bao, "server", f"-config={self.config}"], env=env | {"HOME": str(self.workdir)},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._until(lambda: self.api("GET", "sys/seal-status") is not None)
        if not self.token:
            keys = self._until(lambda: self.api("PUT", "sys/init",
                                                {"secret_shares": 1, "secret_threshold": 1}))
            self.token, self._unseal_key = keys["root_token"], keys["keys_base64"][0]
        self.api("PUT", "sys/unseal", {"key": self._unseal_key})
        self._until(lambda: self.api("GET", "sys/health"))  # 200 only when active, unsealed

    def mount_kv(self) -> None:
        self._until(lambda: self.api("POST", "sys/mounts/secret",
                                     {"type": "kv", "options": {"version": "2"}}))

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no clean shutdown."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}/v1/{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"X-Vault-Token": self.token} if self.token else {})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError:
            if path.startswith("secret/"):  # a missing secret is an answer, not "not ready"
                raise
            return None
        except OSError:
            return None
        return json.loads(raw) if raw else {"no content": True}

    @staticmethod
    def _until(probe: Any, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := probe():
                return value
            time.sleep(0.05)
        raise AssertionError("OpenBao did not come up in time")


def test_killing_the_real_openbao_in_the_middle_of_cred_set(tmp_path: Path) -> None:
    """The proxy holds one request of `cred set` while the test SIGKILLs the OpenBao process,
    then lets it go on to the dead server. OpenBao keeps its data on disk (raft), so after
    a restart we see exactly what the crash left behind."""
    server = DurableOpenBao(tmp_path / "bao")
    try:
        server.start()
        server.mount_kv()
        with FlakyProxy(server.url) as flaky:
            term = terminal(tmp_path, VAULT_ADDR=flaky.url, VAULT_TOKEN=server.token)
            slug = set_up(term, f"--backend vault --vault-url {flaky.url}")
            # Requests: audit key, server time, chain head, metadata, data write, metadata write.
            for account, held, killed_before in (("tiktok-main", 4, "the data write"),
                                                 ("insta", 5, "the metadata write")):
                before = dump(term.db)
                flaky.hold_at(held)
                command = [sys.executable, "-m", "accessgov", "--db", str(term.db), "cred",
                           "set", account, "--kind", "password", "--stdin"]
                running = subprocess.Popen(command, env=term.env, stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True)
                first = f"Crash-{account}-{secrets.token_hex(4)}"
                out, err = "", ""
                try:
                    assert running.stdin is not None
                    running.stdin.write(first + "\n")
                    running.stdin.close()
                    assert flaky.held.wait(30), f"cred set never reached {killed_before}"
                    server.kill()
                    flaky.release()
                    running.wait(timeout=30)
                    assert running.stdout is not None and running.stderr is not None
                    out, err = running.stdout.read(), running.stderr.read()
                finally:
                    if running.poll() is None:
                        running.kill()
                        running.wait()
                assert running.returncode == 4, (out, err)
                assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
                assert dump(term.db) == before

                server.start()
                flaky.revive()
                left = orphans(server.api, term.db, slug, account, "password")
                after_crash = versions_in_openbao(server.api, slug, account, "password")
                retry = feed(term, f"cred set {account} --kind password --stdin", "Second\n",
                             expect=None)
                if held == 4:  # killed before the write reached it: nothing there, retry works
                    assert after_crash == {}
                    assert retry.returncode == 0, retry.stderr
                    assert term.run(f"cred reveal {account}").stdout == "Second"
                else:  # the write was on disk, the undo could not reach a dead server
                    assert after_crash == {1: True} and left == {1}
                    assert retry.returncode == 2 and ADOPT_HINT in one_line(retry)
                    term.run(f"cred adopt {account} --kind password")
                    assert term.run(f"cred reveal {account}").stdout == first
                assert_consistent(server.api, term, slug, account, "password")
            term.run("audit verify")
    finally:
        server.stop()
