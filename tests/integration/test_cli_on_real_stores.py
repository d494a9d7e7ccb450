"""The whole story through the real program, against real OpenBao and a real keyring."""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.schemas import validate_output
from tests.support.shell import dump
from tests.support.terminal import Terminal, terminal

pytestmark = pytest.mark.integration


def story(term: Terminal) -> None:
    """Set-up, a trustee, an account, a grant and its revocation, then verify the chain."""
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    term.enrol("vperkins")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}")
    term.run('person add spatel --name "Sonal Patel" --email s@example.org --category trustee '
             '--board-minute "BM 2026/01 item 2"')
    term.enrol("spatel", invited=True)
    term.run('person add jdoe --name "Jo Doe" --email j@example.org --category employee '
             '--title "Young Adults Lead"')
    term.run('account add instagram-main --platform instagram --handle @interact '
             '--owner spatel --purpose "Events and news" --mfa totp --access delegated')
    term.run('grant add jdoe instagram-main --role editor --reason "Posts youth events"')
    refused = term.run("grant add vperkins instagram-main --role admin --reason me", expect=3)
    assert "cannot approve their own access" in refused.stderr
    grants = json.loads(term.run("grant list --format json").stdout)
    assert [(g["id"], g["authority"], g["verified_by"]) for g in grants] == [
        ("G-0001", "ceo", "session S-0001")]
    term.run('grant revoke G-0001 --reason "Role changed"')
    term.run("logout")
    assert "intact" in term.run("audit verify").stdout


def assert_no_secret_leaked(term: Terminal, secrets_: list[str]) -> None:
    """Operator seeds and the audit key: only in the store (and the enrol URI on stdout)."""
    register = term.db.read_bytes()
    for suffix in ("-wal", "-shm"):
        extra = term.db.with_name(term.db.name + suffix)
        register += extra.read_bytes() if extra.exists() else b""
    audit_log = term.run("audit log --format json").stdout.encode()
    stderr = "".join(r.stderr for r in term.transcript).encode()
    for secret in secrets_:
        for artefact, content in (("register", register), ("audit log", audit_log),
                                  ("stderr", stderr)):
            assert secret.encode() not in content, f"secret found in the {artefact}"


def test_story_on_openbao(tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    slug = f"interact-{secrets.token_hex(4)}"
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug {slug} --backend vault --vault-url {openbao.url}")
    story(term)
    # The documented paths, read by the real bao CLI.
    seed = openbao.bao("kv", "get", "-mount=secret", "-field=value",
                       f"accessgov/{slug}/mfa/vperkins")
    assert seed.returncode == 0 and seed.stdout.strip() == term.seeds["vperkins"]
    key = openbao.bao("kv", "get", "-mount=secret", "-field=value", f"accessgov/{slug}/audit/key")
    assert key.returncode == 0
    assert_no_secret_leaked(term, [*term.seeds.values(), key.stdout.strip()])


def test_story_on_the_secret_service_keyring(tmp_path: Path,
                                             secret_service: servers.SecretServiceSession) -> None:
    slug = f"interact-{secrets.token_hex(4)}"
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug {slug} --backend keyring")
    story(term)
    found = subprocess.run(
        ["secret-tool", "lookup", "service", f"accessgov/{slug}", "username", "mfa/vperkins"],
        env=term.env, capture_output=True, text=True, timeout=30, check=False)
    assert found.stdout.strip() == term.seeds["vperkins"]
    key = subprocess.run(
        ["secret-tool", "lookup", "service", f"accessgov/{slug}", "username", "audit/key"],
        env=term.env, capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    assert key
    assert_no_secret_leaked(term, [*term.seeds.values(), key])


@pytest.fixture
def vault_org(tmp_path: Path, openbao: servers.OpenBaoServer) -> Terminal:
    """A register on OpenBao after set-up, with the CEO logged in."""
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug t{secrets.token_hex(4)} --backend vault "
             f"--vault-url {openbao.url}")
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    term.enrol("vperkins")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}")
    term.run('person add jdoe --name "Jo Doe" --email j@example.org --category employee')
    return term


def test_unreachable_vault_refuses_changes_and_keeps_everything(vault_org: Terminal) -> None:
    with sqlite3.connect(vault_org.db) as conn:  # the Vault moved away (or is down)
        conn.execute("UPDATE settings SET value = 'http://127.0.0.1:9' "
                     "WHERE key = 'backend_vault_url'")
    before = dump(vault_org.db)
    result = vault_org.run('person add kim --name Kim --email k@example.org --category volunteer',
                           expect=4)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "127.0.0.1:9" in result.stderr
    vault_org.run("grant list")  # reading the register needs no Vault
    assert dump(vault_org.db) == before


def test_the_store_moves_to_a_new_address_by_an_approvers_audited_act(
        vault_org: Terminal, openbao: servers.OpenBaoServer) -> None:
    """Issue 16, item 4: VAULT_ADDR is read only at init; the address is changed with
    `store set-address`, proved through the new address (so it must be the same store)."""
    shown = validate_output("store-show", vault_org.run("store show --format json").stdout)
    assert isinstance(shown, dict)
    assert (shown["backend"], shown["vault_url"]) == ("vault", openbao.url)
    port = openbao.url.rsplit(":", 1)[1]
    before = dump(vault_org.db)
    # Plain http to another machine is refused without --insecure-http; nothing changes.
    far = vault_org.run("store set-address http://192.0.2.10:8200", expect=2)
    assert "plain http:// to another machine" in far.stderr and "--insecure-http" in far.stderr
    # An address where no store answers: refused, nothing changes.
    gone = vault_org.run("store set-address http://127.0.0.1:9", expect=4)
    assert len(gone.stderr.strip().splitlines()) == 1 and "127.0.0.1:9" in gone.stderr
    assert dump(vault_org.db) == before
    # The same server under its other name.
    moved = f"http://localhost:{port}"
    vault_org.run(f"store set-address {moved}")
    assert json.loads(vault_org.run("store show --format json").stdout)["vault_url"] == moved
    vault_org.run('person add kim --name Kim --email k@example.org --category volunteer')
    event = json.loads(vault_org.run("audit log --action store.address --format json")
                       .stdout)[0]
    assert (event["actor"], event["details"]["after"]) == ("vperkins", moved)
    vault_org.run("audit verify")


def test_a_forbidden_token_refuses_changes(vault_org: Terminal,
                                           openbao: servers.OpenBaoServer) -> None:
    deny = 'path "sys/*" { capabilities = ["deny"] }'
    openbao.api("PUT", "sys/policies/acl/nothing", {"policy": deny})
    token = openbao.api("POST", "auth/token/create", {"policies": ["nothing"],
                                                       "no_default_policy": True})
    vault_org.env["VAULT_TOKEN"] = token["auth"]["client_token"]
    before = dump(vault_org.db)
    result = vault_org.run('person add kim --name Kim --email k@example.org --category volunteer',
                           expect=4)
    assert "refused" in result.stderr.lower() or "permission" in result.stderr.lower()
    assert token["auth"]["client_token"] not in result.stderr
    assert dump(vault_org.db) == before


def test_a_sealed_vault_refuses_changes(tmp_path: Path) -> None:
    server = servers.start_or_skip(servers.start_openbao, tmp_path / "sealed-bao")
    try:
        term = terminal(tmp_path, **server.env)
        term.run(f"init --org InterAct --backend vault --vault-url {server.url}")
        term.run('person add vperkins --name "V P" --email v@example.org --category ceo')
        before = dump(term.db)
        assert server.bao("operator", "seal").returncode == 0
        result = term.run('person add kim --name Kim --email k@example.org --category volunteer',
                          expect=4)
        assert "sealed" in result.stderr
        assert dump(term.db) == before
    finally:
        server.stop()


def test_init_against_an_unreachable_vault_creates_nothing(tmp_path: Path) -> None:
    term = terminal(tmp_path, VAULT_TOKEN="whatever")
    result = term.run("init --org InterAct --backend vault --vault-url http://127.0.0.1:9",
                      expect=4)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not term.db.exists()


def test_a_locked_keyring_refuses_changes(tmp_path: Path) -> None:
    import contextlib

    import secretstorage
    from jeepney.io.blocking import open_dbus_connection

    session = servers.start_or_skip(servers.start_secret_service, tmp_path / "locked")
    try:
        term = terminal(tmp_path, **session.env)
        term.run("init --org InterAct --backend keyring")
        before = dump(term.db)
        with contextlib.closing(open_dbus_connection(bus=session.address)) as connection:
            secretstorage.get_default_collection(connection).lock()
        result = term.run('person add vperkins --name "V P" --email v@example.org --category ceo',
                          expect=4)
        assert "the keyring is locked" in result.stderr
        assert dump(term.db) == before
    finally:
        session.stop()


def test_two_programs_writing_at_once_both_succeed(vault_org: Terminal) -> None:
    import sys

    def start(n: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "accessgov", "--db", str(vault_org.db), "person", "update",
             "jdoe", "--title", f"Title {n}"],
            env=vault_org.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    processes = [start(n) for n in range(4)]
    outcomes = [(p.wait(timeout=60), p.stderr.read()) for p in processes]  # type: ignore[union-attr]
    assert all(code == 0 for code, _ in outcomes), outcomes
    events = json.loads(vault_org.run("audit log --action person.update --format json").stdout)
    assert len(events) == 4
    vault_org.run("audit verify")


def test_init_without_a_usable_keyring_points_to_vault_and_creates_nothing(
        tmp_path: Path) -> None:
    """The autouse fixture leaves no D-Bus session: there is no keyring to use."""
    term = terminal(tmp_path)
    result = term.run("init --org InterAct --backend keyring", expect=4)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no usable keyring" in lines[0] and "--backend vault" in lines[0]
    assert not term.db.exists()
